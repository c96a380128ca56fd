// The `admin` section of gatehouse.yaml: who may use the admin HTTP API.
import { z } from 'zod';

export const adminSchema = z
  .strictObject({
    /** Principals (API keys or tokens) with any of these roles may use `/admin/api/*`. */
    roles: z.array(z.string().min(1)).min(1).default(['gatehouse-admin']),
  })
  .prefault({});

export type AdminConfig = z.infer<typeof adminSchema>;
