// The `metrics` and `logs` sections of gatehouse.yaml.
import { z } from 'zod';

export const metricsSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Served on the gateway's own listener at this path unless `listen` gives it its own. */
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9/_-]*$/)
      .default('/metrics'),
    /** A separate address for scrapes (e.g. an internal interface), instead of the main listener. */
    listen: z
      .strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535) })
      .optional(),
    /** A bearer token scrapes must present (`${secret:NAME}`); without it the endpoint is open. */
    token: z.string().min(16).optional(),
  })
  .prefault({});

export type MetricsConfig = z.infer<typeof metricsSchema>;

export const logsSchema = z
  .strictObject({
    /** `json`: one object per line (pino), for log pipelines; `text`: the message alone, for people. */
    format: z.enum(['json', 'text']).default('json'),
    level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  })
  .prefault({});
