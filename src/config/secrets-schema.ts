// The `secrets` section of gatehouse.yaml: where the encrypted local secret store is and where its
// master key comes from. Values in it may use `${NAME}` and `${file:PATH}`, never `${secret:...}`.
import { z } from 'zod';

export const secretsSchema = z.strictObject({
  /** The store file `gatehouse secrets` writes (relative paths: from the working directory). */
  store: z.string().min(1),
  /**
   * The 32-byte key every value is encrypted under, as 64 hex or 44 base64 characters: the name
   * of an environment variable holding it, or a file holding it. Never the key itself.
   */
  masterKey: z.union(
    [z.strictObject({ env: z.string().min(1) }), z.strictObject({ file: z.string().min(1) })],
    {
      error: 'give exactly one of { env: VARIABLE } or { file: PATH }',
    },
  ),
});

export type SecretsConfig = z.infer<typeof secretsSchema>;
