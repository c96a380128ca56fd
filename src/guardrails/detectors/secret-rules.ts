// Provider tokens recognised by their documented prefix and length. Every pattern is a literal
// prefix followed by bounded character classes, so the work at each position is bounded by the
// pattern's longest match: linear in the text whatever it holds. The look-arounds stop a token
// from being found inside a longer run of the same characters.

export interface TokenRule {
  kind: string;
  pattern: RegExp;
  score: number;
  /** Lower the score, or drop the match (0), after looking at it. */
  judge?: (match: string) => number;
}

const B = '(?<![A-Za-z0-9_])';
const E = '(?![A-Za-z0-9_])';

function rule(kind: string, body: string, score: number, judge?: (m: string) => number): TokenRule {
  return { kind, pattern: new RegExp(B + body + E, 'g'), score, judge };
}

/** AWS documents its example keys ending in EXAMPLE; they are placeholders, not leaks. */
const notExample = (m: string) => (m.endsWith('EXAMPLE') || m.includes('EXAMPLEKEY') ? 0 : 1);

export const TOKEN_RULES: readonly TokenRule[] = [
  rule(
    'aws-access-key',
    '(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|AGPA|ASCA)[A-Z0-9]{16}',
    0.9,
    notExample,
  ),
  rule('google-api-key', 'AIza[0-9A-Za-z_-]{35}', 0.9),
  rule('google-oauth-token', 'ya29\\.[0-9A-Za-z_-]{30,400}', 0.85),
  rule('google-oauth-secret', 'GOCSPX-[0-9A-Za-z_-]{28}', 0.9),
  rule('github-token', '(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}', 0.95),
  rule('github-token', 'github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}', 0.95),
  rule(
    'gitlab-token',
    '(?:glpat|gldt|glrt|glcbt|glft|glsoat|glimt|gloas|glagent)-[A-Za-z0-9_-]{20,120}',
    0.9,
  ),
  rule('gitlab-token', 'glptt-[0-9a-f]{40}', 0.9),
  rule('gitlab-token', 'GR1348941[A-Za-z0-9_-]{20}', 0.9),
  rule('slack-token', 'xox[abposre]-[0-9A-Za-z-]{10,250}', 0.9),
  rule('slack-token', 'xapp-[0-9]-[A-Za-z0-9-]{20,200}', 0.9),
  rule(
    'slack-webhook',
    'https://hooks\\.slack\\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/]{20,160}',
    0.9,
  ),
  rule('stripe-key', '(?:sk|rk)_live_[0-9A-Za-z]{24,247}', 0.95),
  rule('stripe-key', '(?:sk|rk)_test_[0-9A-Za-z]{24,247}', 0.8),
  rule('stripe-key', 'whsec_[A-Za-z0-9]{32,64}', 0.9),
  rule('anthropic-key', 'sk-ant-(?:api03|admin01|oat01|ort01)-[A-Za-z0-9_-]{80,120}', 0.97),
  rule('anthropic-key', 'sk-ant-[A-Za-z0-9_-]{32,150}', 0.9),
  rule('openai-key', 'sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,300}', 0.95),
  rule('openai-key', 'sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}', 0.95),
  rule('openai-key', 'sk-[A-Za-z0-9]{48}', 0.8),
  rule('npm-token', 'npm_[A-Za-z0-9]{36}', 0.9),
  rule('huggingface-token', '(?:hf|api_org)_[A-Za-z0-9]{34,40}', 0.9),
  rule('sendgrid-key', 'SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}', 0.95),
  rule('shopify-token', 'shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}', 0.9),
  rule('digitalocean-token', 'do[opr]_v1_[a-f0-9]{64}', 0.9),
  rule('pypi-token', 'pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,300}', 0.95),
  rule('docker-token', 'dckr_pat_[A-Za-z0-9_-]{27}', 0.9),
  rule('vault-token', 'hv[sb]\\.[A-Za-z0-9_-]{24,300}', 0.85),
  rule('telegram-bot-token', '[0-9]{8,10}:AA[A-Za-z0-9_-]{33}', 0.9),
  rule('azure-storage-key', 'AccountKey=[A-Za-z0-9+/]{86}==', 0.95),
  rule('azure-connection-string', 'SharedAccessKey=[A-Za-z0-9+/]{42,44}=?', 0.9),
  rule('azure-client-secret', '[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}', 0.8),
  rule('gcp-service-account', '"private_key_id"\\s{0,4}:\\s{0,4}"[0-9a-f]{40}"', 0.85),
];

/**
 * Literal pieces at least one of which every TOKEN_RULES match contains: a text with none of them
 * skips the token rules (one pass instead of one per rule).
 */
export const TOKEN_TRIGGER =
  /AKIA|ASIA|ABIA|ACCA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|AGPA|ASCA|AIza|ya29\.|GOCSPX-|gh[pousr]_|github_pat_|gl[a-z]{1,6}-|GR1348941|xox[abposre]-|xapp-|hooks\.slack\.com|_live_|_test_|whsec_|sk-|npm_|hf_|api_org_|SG\.|shp[a-z]{2}_|_v1_|pypi-|dckr_pat_|hv[sb]\.|:AA|AccountKey=|SharedAccessKey=|Q~|"private_key_id"/;

/** A 40-character AWS secret access key, looked for only shortly after an access key id. */
export const AWS_SECRET_NEAR = /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
