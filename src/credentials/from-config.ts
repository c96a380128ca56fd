// Builds the credential sources the config asks for: the token exchanger always (it costs
// nothing unused), and the per-user OAuth flows with their encrypted vault when an upstream
// uses `onBehalfOf.method: oauth`.
import type { Config } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import { loadMasterKey } from '../secrets/cipher.ts';
import { TokenExchanger } from './token-exchange.ts';
import type { CredentialSources } from './upstream-credential.ts';
import { UserAuthorizations } from './user-oauth.ts';
import { openFileVault } from './vault.ts';

/** `previous` is kept across a reload when the vault's settings did not change (pending flows live on). */
export function credentialSourcesFor(
  config: Config,
  log: (line: string) => void,
  previous?: CredentialSources & { signature?: string },
): CredentialSources & { signature?: string } {
  const exchanger = previous?.exchanger ?? new TokenExchanger();
  const lists = previous?.lists ?? new Map();
  const oauth = Object.entries(config.upstreams).filter(
    ([, u]) => u.transport !== 'stdio' && u.onBehalfOf?.method === 'oauth',
  );
  if (oauth.length === 0) return { exchanger, lists };
  const names = oauth.map(([name]) => name).join(', ');
  if (!config.auth.resource) {
    throw new ConfigError(`auth.resource: set the gateway's public URL; ${names} sign users in through it`);
  }
  if (!config.userTokens || !config.secrets) {
    throw new ConfigError(
      `userTokens and secrets: ${names} keep each user's tokens, encrypted; set userTokens.file and the secrets section's masterKey`,
    );
  }
  const base = new URL(config.auth.resource).origin;
  const signature = JSON.stringify([base, config.userTokens.file, config.secrets.masterKey]);
  if (previous?.users && previous.signature === signature) return previous;
  const vault = openFileVault(config.userTokens.file, loadMasterKey(config.secrets.masterKey), log);
  return { exchanger, lists, users: new UserAuthorizations(vault, base, log), signature };
}
