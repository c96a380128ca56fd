// The sinks of `audit.sinks`, built once per config. Each is named `<type>-<index>` (its
// position in the list), the name its stats and log lines carry. A sink without a
// `deadLetterFile` gets `gatehouse-audit-<type>-<index>.dead.jsonl` in the working directory:
// undeliverable records always have somewhere to go.

import type { SinkConfig } from '../schema.ts';
import type { AuditSink } from '../sink.ts';
import type { DeliverySink, SinkOptions } from './delivery.ts';
import { createOtlpSink } from './otlp.ts';
import { createSyslogSink } from './syslog.ts';
import { createWebhookSink } from './webhook.ts';

/** Builds every configured sink; throws a ConfigError (naming the sink, never a secret) for a bad one. */
export function createSinks(configs: readonly SinkConfig[], log: (line: string) => void): AuditSink[] {
  return configs.map((config, index) => createSink(config, index, log));
}

/** Backoff and close timing; the defaults suit production, tests shorten them. */
export type SinkTiming = Pick<SinkOptions, 'baseBackoffMs' | 'maxBackoffMs' | 'closeTimeoutMs'>;

export function createSink(
  config: SinkConfig,
  index: number,
  log: (line: string) => void,
  timing: SinkTiming = {},
): DeliverySink {
  const name = `${config.type}-${index}`;
  const deadLetterFile = config.deadLetterFile ?? `gatehouse-audit-${name}.dead.jsonl`;
  const options: SinkOptions = { ...timing, name, log, deadLetterFile };
  switch (config.type) {
    case 'webhook':
      return createWebhookSink(config, options);
    case 'syslog':
      return createSyslogSink(config, options);
    case 'otlp':
      return createOtlpSink(config, options);
  }
}
