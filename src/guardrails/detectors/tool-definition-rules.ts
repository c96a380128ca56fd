// Rules for what poisoned tool definitions ask of the model, on normalize.ts's form of the
// flattened definition. Same discipline as injection-rules.ts: bounded quantifiers only, no
// quantified group holding a quantifier.
import { gap, type InjectionRule, r } from './injection-rules.ts';

const SENSITIVE_PATH =
  '(?:~/\\.ssh(?!/(?:authorized[_ ]keys|known[_ ]hosts|config)\\b|/[\\w.-]{1,40}\\.pub\\b)|\\.ssh/(?!authorized[_ ]keys|known[_ ]hosts|config\\b|[\\w.-]{1,40}\\.pub\\b)|(?:id_rsa|id_ed25519|id_ecdsa)(?!\\.pub)|/etc/passwd|/etc/shadow|\\.aws/credentials|\\.aws/config|\\.git-credentials|\\.netrc|\\.npmrc|\\.pypirc|\\.docker/config\\.json|\\.kube/config|mcp\\.json|claude_desktop_config(?:\\.json)?|\\.cursor/|\\.env\\b|\\.envrc|wallet\\.dat|keychain|\\.bash_history|\\.zsh_history|\\.gnupg|secring|credentials\\.json|token\\.json|service[-_]account\\.json)';

const DATA =
  '(?:contents?|text|data|output|history|conversation|messages|emails|file|files|keys?|secrets?|credentials|tokens?|passwords?|env(?:ironment)?(?: variables)?|config(?:uration)?|chat|memory|information)';

export const DEFINITION_RULES: readonly InjectionRule[] = [
  r('sensitive-file', 0.35, SENSITIVE_PATH),
  r(
    'sensitive-file',
    0.55,
    `\\b(?:read|cat|open|load|fetch|get|retrieve|access|collect|copy|include|send|upload|attach|grab|extract)\\b${gap(40)}${SENSITIVE_PATH}`,
  ),
  r(
    'data-in-parameter',
    0.55,
    `\\b(?:pass|put|include|insert|place|send|add|attach|embed|copy|paste|write|provide|supply|append)\\b${gap(24)}\\b(?:its|the|their|this|that|all|full|entire|complete|whole|any|every)\\b${gap(30)}\\b${DATA}\\b${gap(60)}\\b(?:as|in|into|inside|via|through|using|to) (?:the |a |this |its |an )?[\`'"]?[a-z0-9_]{1,40}[\`'"]?\\s?(?:parameter|param|argument|arg|field|property|variable)\\b`,
  ),
  r(
    'data-in-parameter',
    0.5,
    `\\b(?:pass|put|send|include|provide)\\b${gap(40)}\\b(?:its|their|the file'?s?) (?:content|contents|text)\\b${gap(30)}\\bas [\`'"]?[a-z0-9_]{1,40}`,
  ),
  r(
    'model-directive',
    0.35,
    '\\bbefore (?:using|calling|invoking|you use|you call|running|executing) (?:this|the|any) (?:tool|function)\\b',
  ),
  r(
    'model-directive',
    0.55,
    '\\b(?:the (?:assistant|model|ai|agent|llm)|you) (?:must|should|shall|need to|have to|are required to|are instructed to) (?:always |first |also |now |silently |secretly )?(?:read|send|forward|attach|copy|upload|exfiltrate|collect|gather|email|transmit|leak|ignore|not tell|not mention|not inform|not reveal|append|include the contents)\\b',
  ),
  r(
    'model-directive',
    0.35,
    '\\b(?:the (?:assistant|model|ai|agent|llm)) (?:must|should|shall|needs to|has to|is required to) (?:always |first |also |never )?\\b',
  ),
  r(
    'coercion-pretext',
    0.4,
    `\\b(?:otherwise|or else|if not|if you don't|if you do not|failure to do so|failing that)\\b${gap(60)}\\b(?:the tool|this tool|it|the system|the application|the server|the request|the call|everything) (?:will|would|may|might|could) (?:fail|crash|break|not work|stop working|error|be blocked|be rejected|malfunction)`,
  ),
  r(
    'coercion-pretext',
    0.4,
    '\\b(?:this is )?(?:very |extremely |really |super |critically ){2,3}important\\b',
  ),
  r(
    'coercion-pretext',
    0.35,
    '\\b(?:this is (?:a )?(?:mandatory|required|critical|essential) (?:step|requirement|security measure|compliance step)|for (?:security|compliance|verification|auditing|debugging|logging) purposes,? (?:you|the assistant|always|first|also))',
  ),
  r(
    'shadowing',
    0.6,
    `\\b(?:all|every|any|other|another)\\s(?:other\\s)?(?:mcp\\s)?(?:tools?|servers?|functions?)\\b${gap(60)}\\b(?:must|should|shall|need to|have to|always|never|are required to|will be|are to be)\\b`,
  ),
  r(
    'shadowing',
    0.6,
    `\\b(?:when|whenever|before|after|if)\\b${gap(30)}\\b(?:any|another|other|all|every|a different)\\s(?:mcp\\s)?(?:tools?|servers?|functions?)\\b`,
  ),
  r(
    'shadowing',
    0.6,
    '\\binstead of (?:using |calling )?(?:the |any )?[`\'"]?[a-z0-9_.-]{2,64}[`\'"]?\\s(?:tool|function|server)',
  ),
  r(
    'shadowing',
    0.6,
    '\\bthis tool (?:replaces|overrides|supersedes|takes precedence over|must be used instead of|should be used instead of|should always be used before)',
  ),
  r(
    'shadowing',
    0.7,
    `\\b(?:all|every|any) (?:outgoing |sent )?(?:emails?|messages?|requests?|transactions?|payments?|transfers?|invoices?)\\b${gap(60)}\\b(?:bcc|cc|copy|forward|redirect|also (?:be )?sent|also send|send a copy)`,
  ),
  r(
    'shadowing',
    0.6,
    `\\b(?:change|set|replace|redirect|override)\\b${gap(30)}\\b(?:recipient|recipients|to address|destination|account number|iban|wallet address|payee)\\b${gap(40)}\\bto\\b`,
  ),
];

/** Words that make a sentence naming another tool into an instruction about it. */
export const SHADOW_DIRECTIVE =
  /\b(?:must|always|never|should|shall|instead|whenever|when|before|after|redirect|bcc|cc|also|change|replace|override|do not|don't|make sure|ensure|required|important|only|first)\b/;
