// The webhook sink: each batch is one `POST <url>` with `{"records": [...]}` (the records as
// kept, hash chain fields included). A record may arrive twice when an answer is lost after the
// receiver processed it (a timeout, a reset): receivers deduplicate by `id`.
//
//   2xx                          delivered
//   408, 429, 5xx, network error retried with backoff (Retry-After honoured up to a minute)
//   anything else (3xx, 4xx)     permanent: the batch is dead-lettered at once
import type { SinkConfig } from '../schema.ts';
import {
  createDelivery,
  type DeliverySink,
  deliveryLimits,
  type SinkOptions,
  type Transport,
} from './delivery.ts';
import { checkTarget, postJson } from './http-post.ts';

export type WebhookSinkConfig = Extract<SinkConfig, { type: 'webhook' }>;

export function createWebhookSink(config: WebhookSinkConfig, options: SinkOptions): DeliverySink {
  const target = { url: config.url, headers: config.headers, timeoutMs: config.timeoutMs };
  const destination = checkTarget(options.name, target);
  const transport: Transport = {
    async send(batch, signal) {
      const answer = await postJson(target, JSON.stringify({ records: batch }), signal);
      if (!answer.answered) return { ok: false, error: answer.error };
      const { status, retryAfterMs } = answer;
      if (status >= 200 && status < 300) return { ok: true };
      // The body of a refusal is not quoted: a receiver may echo the request, headers and all.
      const error = `HTTP ${status}`;
      if (status === 408 || status === 429 || status >= 500) return { ok: false, error, retryAfterMs };
      return { ok: false, error, permanent: true };
    },
  };
  return createDelivery(transport, { ...options, ...deliveryLimits(config), destination });
}
