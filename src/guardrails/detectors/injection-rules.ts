// The prompt-injection rules, written against normalize.ts's form of the text (lowercase, folded,
// one space between words). Each rule is a regular expression whose quantifiers are all bounded
// (`{0,40}`) or a single greedy run of one class, and no quantified group holds a quantifier: the
// engine can only back up within a bound, so the work at each position is bounded by a constant
// and a pass over the text is linear. test/guardrails/linear-time.test.ts checks this on inputs
// built to make each pattern back up.
//
// Weights are the confidence one match alone gives; injection.ts combines kinds (noisy-OR) and
// discounts matches quoted in a text that discusses attacks.

export interface InjectionRule {
  kind: string;
  weight: number;
  pattern: RegExp;
  /** Matches here are about the reader of the text, so a negation before them ("never …") flips them. */
  negatable?: boolean;
  /**
   * Every match starts with one of these strings (derived from the pattern): when none occurs in a
   * text, the pattern cannot match and is not run. Undefined when no such list could be derived.
   */
  starts?: string[];
  /** For each start, its leading run of letters a–z (empty for starts like '</' or non-ASCII). */
  heads?: string[];
}

/** Up to n characters within one sentence; a '.' not followed by a space (a URL, a file name) does not end it. */
export const gap = (n: number) => `(?:[^.!?\\n]|[.!?](?=\\S)){0,${n}}`;

const OVERRIDE_VERB =
  "(?:ignore|ignoring|disregard|forget|override|overrule|bypass|abandon|discard|neglect|set aside|pay no attention to|do not follow|don't follow|stop following|no longer follow|cancel|void)";
const OLD =
  '(?:previous|prior|above|earlier|preceding|former|foregoing|original|initial|system|developer|your|all|old|existing)';
const ORDERS =
  '(?:instructions?|prompts?|rules|directions?|directives?|guidelines|guidance|commands?|orders|constraints|restrictions|programming|polic(?:y|ies)|system prompt|safety (?:rules|guidelines|policies)|context)';
const MODEL =
  '(?:ai|llm|llms|assistant|agent|model|language model|chatbot|bot|ai assistant|ai agent|ai model|claude|chatgpt|gpt|copilot|gemini|autonomous agent)';

const SENSITIVE =
  '(?:~/\\.ssh(?!/(?:authorized[_ ]keys|known[_ ]hosts|config)\\b|/[\\w.-]{1,40}\\.pub\\b)|\\.ssh/(?!authorized[_ ]keys|known[_ ]hosts|config\\b|[\\w.-]{1,40}\\.pub\\b)|(?:id_rsa|id_ed25519|id_ecdsa)(?!\\.pub)|\\.env\\b|/etc/passwd|/etc/shadow|\\.aws/credentials|\\.npmrc|\\.netrc|\\.pypirc|\\.git-credentials|\\.kube/config|credentials\\.json|mcp\\.json|claude_desktop_config|\\.bash_history|\\.zsh_history|keychain|wallet\\.dat|private keys?|api keys?|secret keys?|access tokens?|auth tokens?|passwords?|session cookies?|environment variables|env vars|credentials)';

export function r(kind: string, weight: number, source: string, negatable = false): InjectionRule {
  const starts = literalStarts(source);
  const heads = starts?.map((x) => /^[a-z]*/.exec(x)![0]);
  return { kind, weight, pattern: new RegExp(source, 'g'), negatable, starts, heads };
}

function isQuantifier(ch: string | undefined): boolean {
  return ch === '?' || ch === '*' || ch === '{';
}

const META = new Set([...'\\()[]{}.*+?|^$']);

/**
 * The literal text each alternative of a pattern begins with, when the pattern is a leading group
 * of alternatives (after an optional \b): `\b(?:ignore|forget) …` gives ['ignore', 'forget']. A
 * character made optional by a following quantifier ends the literal. Undefined when an
 * alternative begins with anything but a literal of two or more characters.
 */
export function literalStarts(source: string): string[] | undefined {
  const p = source.startsWith('\\b') ? 2 : 0;
  let alternatives: string[];
  if (source.startsWith('(?:', p)) {
    // Split the group's top level on '|'.
    let depth = 0;
    let cur = '';
    alternatives = [];
    let q = p + 3;
    for (; q < source.length; q++) {
      const ch = source[q]!;
      if (ch === '\\') {
        cur += ch + (source[q + 1] ?? '');
        q++;
        continue;
      }
      if (ch === '(') depth++;
      if (ch === ')') {
        if (depth === 0) break;
        depth--;
      }
      if (ch === '|' && depth === 0) {
        alternatives.push(cur);
        cur = '';
      } else cur += ch;
    }
    alternatives.push(cur);
    // A quantifier on the whole group makes it optional: no list then.
    if (isQuantifier(source[q + 1])) return undefined;
  } else alternatives = [source.slice(p)];
  const starts: string[] = [];
  for (const alt of alternatives) {
    let lit = '';
    for (let k = 0; k < alt.length; k++) {
      const ch = alt[k]!;
      if (META.has(ch)) break;
      if (isQuantifier(alt[k + 1])) break;
      lit += ch;
    }
    if (lit.length < 2) return undefined;
    starts.push(lit);
  }
  return starts;
}

export const INJECTION_RULES: readonly InjectionRule[] = [
  // ---- instruction overrides ----
  r(
    'instruction-override',
    0.85,
    `\\b${OVERRIDE_VERB}\\b${gap(40)}\\b${OLD}\\b${gap(30)}\\b${ORDERS}\\b`,
    true,
  ),
  r(
    'instruction-override',
    0.7,
    "\\b(?:ignore|disregard|forget)\\b (?:all |everything )?(?:of )?(?:the |that |what(?:'s| is| was) )?(?:above|previous|prior|before|said before|written above)\\b",
    true,
  ),
  r(
    'instruction-override',
    0.6,
    '\\b(?:ignore|disregard)\\b (?:all|any) (?:other )?(?:instructions|rules|guidelines)\\b(?! (?:in|from|inside|within|contained))',
    true,
  ),
  r(
    'instruction-override',
    0.75,
    `\\b(?:your|the) (?:new|real|actual|true|updated|revised) (?:instructions?|task|tasks|role|goal|objective|orders|directive|mission) (?:is|are|:|follow|below)`,
  ),
  r(
    'instruction-override',
    0.55,
    '(?:^|\\n)\\s{0,4}(?:new|updated|revised|real|actual) (?:system )?(?:instructions?|prompt|rules|orders|directives?|task)\\s{0,2}:',
  ),
  r(
    'instruction-override',
    0.6,
    "\\bfrom now on,? (?:you|you'll|you're|the assistant|the ai|the model) (?:are|will|must|should|shall|is|have to|need to|only|always|respond|answer|act|reply)\\b",
  ),
  r(
    'instruction-override',
    0.8,
    `\\bthe (?:previous|above|earlier|prior|original|system) (?:instructions?|prompt|rules) (?:is|are|was|were|has been|have been) (?:wrong|fake|a test|outdated|cancell?ed|void|revoked|superseded|replaced|no longer (?:valid|applicable|in effect))`,
  ),
  r(
    'instruction-override',
    0.55,
    '\\byou are (?:now|no longer) (?:a |an |in |operating |acting |free|unrestricted|unfiltered|jailbroken|dan\\b|developer mode|god mode|not bound)',
  ),
  r(
    'instruction-override',
    0.6,
    '\\b(?:act|behave|respond|pretend) as (?:an? )?(?:unrestricted|unfiltered|uncensored|jailbroken|evil|rogue|dan\\b|different)',
  ),
  r(
    'instruction-override',
    0.6,
    '\\b(?:developer|god|dan|jailbreak|admin|debug|maintenance) mode (?:is )?(?:now )?(?:enabled|activated|on|engaged|unlocked)\\b',
  ),
  r(
    'instruction-override',
    0.6,
    '\\b(?:safety|content|security|usage) (?:filters?|guardrails?|restrictions?|polic(?:y|ies)|rules|checks|guidelines) (?:are |is |have been |has been )?(?:now )?(?:disabled|removed|turned off|lifted|deactivated|suspended|off|no longer (?:appl(?:y|ies)|in (?:effect|force))|(?:does|do) not apply)\\b',
  ),
  r(
    'instruction-override',
    0.7,
    `\\b(?:override|overrule|supersede|replace)s? (?:all |any )?(?:previous|prior|other|existing|your|the system|system) ${ORDERS}`,
  ),
  // Spanish, French, German, Italian, Portuguese (accents are folded away by normalize)
  r(
    'instruction-override',
    0.8,
    `\\b(?:ignora|ignore|ignoren|ignorad|olvida|olvide|olviden|descarta|omite|haz caso omiso de)\\b${gap(40)}\\b(?:instrucciones|indicaciones|reglas|ordenes|directrices)\\b`,
    true,
  ),
  r(
    'instruction-override',
    0.8,
    `\\b(?:ignore|ignorez|ignorer|oublie|oubliez|oublier|ne tiens pas compte|ne tenez pas compte)\\b${gap(40)}\\b(?:instructions|consignes|regles|directives|ordres)\\b(?:${gap(20)}\\b(?:precedentes|anterieures|ci-dessus))?`,
    true,
  ),
  r(
    'instruction-override',
    0.8,
    `\\b(?:ignoriere|ignorier|ignoriert|ignorieren|vergiss|vergesst|vergessen sie|missachte|missachten sie)\\b${gap(40)}\\b(?:anweisungen|instruktionen|regeln|befehle|vorgaben|anordnungen)\\b`,
    true,
  ),
  r(
    'instruction-override',
    0.8,
    `\\b(?:ignora|ignorate|dimentica|dimenticate|trascura)\\b${gap(40)}\\b(?:istruzioni|regole|indicazioni|direttive)\\b`,
    true,
  ),
  r(
    'instruction-override',
    0.8,
    `\\b(?:ignore|ignora|ignorem|esqueca|esquecam|desconsidere|desconsiderem)\\b${gap(40)}\\b(?:instrucoes|regras|orientacoes|diretrizes)\\b`,
    true,
  ),
  // Russian, Chinese, Japanese, Korean (no \b: it only knows ASCII word characters)
  r(
    'instruction-override',
    0.8,
    '(?:игнорируй|игнорируйте|игнорировать|проигнорируй|проигнорируйте|забудь|забудьте|не обращай внимания на|отбрось)[^.!?\\n]{0,40}(?:инструкци|указани|правил|команд|предписани)',
  ),
  r(
    'instruction-override',
    0.85,
    '(?:忽略|无视|忽视|不要理会|忘记|忘掉|忽略掉|無視)[^。！？\\n]{0,12}(?:指令|指示|说明|說明|规则|規則|提示|命令|设定|設定)',
  ),
  r('instruction-override', 0.85, '(?:指示|命令|ルール|指令|プロンプト|設定)[^。！？\\n]{0,10}(?:無視|忘れ)'),
  r('instruction-override', 0.85, '(?:지시|명령|지침|규칙|프롬프트)[^.!?\\n]{0,12}(?:무시|잊어|잊고)'),

  // ---- role and delimiter spoofing ----
  r(
    'role-spoof',
    0.8,
    '<\\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text|tool|ipython|end|channel|message)\\|>',
  ),
  r('role-spoof', 0.6, '\\[/?inst\\]|<</?sys>>|<(?:start|end)_of_turn>'),
  r(
    'role-spoof',
    0.75,
    '</(?:tool_result|tool_response|tool_output|tool_use|function_results?|function_calls?|function_response|tool_calls?|invoke|search_results|document_content|user_query|untrusted(?:_[a-z]{1,20})?)>',
  ),
  r(
    'role-spoof',
    0.5,
    '<(?:tool_result|tool_response|function_results?|function_calls?|system_prompt|system-reminder|system_message|admin_message|user_query)>',
  ),
  r(
    'role-spoof',
    0.55,
    '(?:^|\\n)\\s{0,4}(?:#{1,4}\\s{0,3}|\\*\\*\\s{0,2}|\\[\\s{0,2}|\\(\\s{0,2}|={2,10}\\s{0,2}|-{3,10}\\s{0,2})(?:system|system prompt|system message|system override|system update|system notice|developer message|admin message|admin override|administrator|system instructions?)\\s{0,2}(?:\\*\\*|\\]|\\)|={2,10}|-{3,10})?\\s{0,2}:',
  ),
  r(
    'role-spoof',
    0.4,
    '(?:^|\\n)\\s{0,4}(?:system|developer)\\s{0,2}(?:message|note|override|prompt|instructions?)?\\s{0,2}:\\s{0,2}(?:you|the assistant|the ai|ignore|from now|new|always|never|do not|important)',
  ),
  r('fake-turn', 0.35, `(?:^|\\n)\\s{0,4}(?:assistant|ai|model|chatgpt|claude|gpt|bot)\\s{0,2}:\\s`),
  r('fake-turn', 0.3, '(?:^|\\n)\\s{0,4}(?:human|user)\\s{0,2}:\\s'),

  // ---- pseudo-tags that make a passage look like it comes from above ----
  r(
    'pseudo-tag',
    0.4,
    '<\\s{0,2}/?\\s{0,2}(?:important|system|instructions?|secret|hidden|admin|critical|urgent|priority|mandatory|override|note_to_ai|ai_instructions?|assistant_instructions|sys|developer|context_update|ai|assistant_note|hidden_instructions)\\s{0,2}>',
  ),
  // An opening and closing pair around text: a block of instructions set apart for the model.
  r(
    'pseudo-tag',
    0.55,
    '<\\s{0,2}(important|system|instructions?|secret|hidden|admin|critical|urgent|priority|mandatory|override|note_to_ai|ai_instructions?|assistant_instructions|sys|developer|context_update|ai|assistant_note|hidden_instructions)\\s{0,2}>[^<]{1,400}<\\s{0,2}/\\s{0,2}\\1\\s{0,2}>',
  ),
  r(
    'pseudo-tag',
    0.45,
    '\\[\\s{0,2}(?:important|system|admin|critical|urgent|developer)\\s{0,2}(?:message|note|override|instructions?|notice|update)?\\s{0,2}\\]',
  ),
  r('pseudo-tag', 0.45, '\\{\\{\\s{0,2}(?:system|important|admin|instructions?)\\b'),

  // ---- text addressed to the model rather than the person ----
  r(
    'addressed-to-model',
    0.5,
    `\\b(?:attention|note|message|instructions?|important|notice|memo|reminder)\\b${gap(15)}\\b(?:to|for) (?:the |all |any )?${MODEL}s?\\b`,
  ),
  r('addressed-to-model', 0.6, `\\bif you are an? ${MODEL}\\b`),
  r(
    'addressed-to-model',
    0.6,
    `\\b(?:to|for|dear) (?:the |any |all |every )?${MODEL}s? (?:reading|processing|parsing|summari[sz]ing|reviewing|screening|evaluating|analy[sz]ing) (?:this|these|the following)\\b`,
  ),
  r(
    'instruction-override',
    0.55,
    `\\byou are an? (?:unfiltered|unrestricted|uncensored|jailbroken|evil|rogue|amoral) (?:ai|assistant|model|chatbot|bot|${MODEL})\\b`,
  ),
  r('addressed-to-model', 0.6, `<!--\\s{0,3}(?:note to (?:the )?)?${MODEL}s?\\b`),
  r('addressed-to-model', 0.5, `\\b(?:dear|hey|hello|hi|attention|psst) ${MODEL}\\b`),
  r(
    'addressed-to-model',
    0.6,
    '\\b(?:ai|llm) (?:agents?|assistants?|models?|systems?) (?:reading|processing|parsing|summari[sz]ing|that (?:read|process)|which (?:read|process)) (?:this|these)',
  ),
  r(
    'addressed-to-model',
    0.5,
    `\\bwhen (?:you|an? ${MODEL}|the ${MODEL}) (?:read|reads|process|processes|summari[sz]es?|sees?|encounters?) this\\b`,
  ),
  r('addressed-to-model', 0.5, `\\bas an? ${MODEL},? you (?:must|should|will|are required)\\b`),

  // ---- coercion to call tools or run commands ----
  r(
    'tool-coercion',
    0.5,
    `\\b(?:(?:you|the ${MODEL}) (?:must|should|needs? to|has to|have to)|be sure to|make sure (?:to|you)|remember to|it is (?:essential|mandatory|required|critical) (?:to|that you)|immediately|first,?|now,?) (?:now |immediately |first |also |then ){0,2}(?:call|invoke|use|run|execute|trigger|launch|fire)\\b`,
  ),
  r(
    'tool-coercion',
    0.45,
    '\\b(?:call|invoke|use|run|execute|trigger)\\s(?:the\\s)?(?!(?:this|that|which|any|each|our|my|your|a|an|another|other|same|the|these|those|its)\\s)[`\'"]?[a-z0-9_.:-]{2,64}[`\'"]?\\s(?:tool|function|action|endpoint)\\b',
  ),
  r(
    'tool-coercion',
    0.35,
    '\\b(?:run|execute|paste|type) (?:the following|this|these|below) (?:shell |bash |terminal |powershell )?(?:commands?|scripts?|code|one-liner)\\b',
  ),
  r('tool-coercion', 0.65, '\\b(?:curl|wget)\\s[^\\n|]{1,200}\\|\\s{0,2}(?:sudo\\s)?(?:ba|z|da)?sh\\b'),
  r('tool-coercion', 0.6, '\\brm -rf (?:/|~|\\*|\\$home|--no-preserve-root)'),
  r(
    'tool-coercion',
    0.6,
    '\\b(?:powershell|pwsh)(?:\\.exe)? [^\\n]{0,40}(?:-enc(?:odedcommand)?|-e |iex|invoke-expression)\\b',
  ),
  r(
    'tool-coercion',
    0.45,
    '\\b(?:send|forward|email|mail|bcc|cc|copy)\\b[^.!?\\n]{0,60}\\b(?:to|at) [^\\s]{0,60}@[a-z0-9-]{1,63}\\.[a-z]{2,24}',
  ),

  // ---- reaching for secrets and private files ----
  r(
    'sensitive-data',
    0.45,
    `\\b(?:read|cat|open|print|send|email|mail|upload|include|attach|output|display|copy|forward|post|fetch|retrieve|load|access|collect|gather|extract|list|dump|paste|share)\\b${gap(40)}${SENSITIVE}\\b`,
  ),
  // Take a secret and hand it on: read X … then paste / send / list it.
  r(
    'sensitive-data',
    0.6,
    `\\b(?:read|open|cat|collect|gather|extract|find|get|dump|grab|fetch|take|look up)\\b${gap(40)}${SENSITIVE}${gap(60)}\\b(?:paste|include|print|output|list|show|send|post|return|reveal|share|upload|forward|email|tell)\\b`,
  ),
  r(
    'sensitive-data',
    0.6,
    `\\b(?:include|paste|print|output|list|show|send|post|return|reveal|share|upload|insert|put|add)\\b${gap(30)}${SENSITIVE}${gap(40)}\\b(?:in|into|to|as|inside|within) (?:the |your |this |a )?(?:reply|response|answer|summary|output|message|chat|comment|url|link|query|body|parameter|field)\\b`,
  ),

  // ---- exfiltration through links and images ----
  r(
    'exfiltration',
    0.6,
    `\\b(?:append|add|include|insert|embed|encode|put|attach|concatenate|substitute|fill in)\\b${gap(80)}\\b(?:to|in|into|inside|within|as|at the end of) (?:the |this |that |a |its |your )?(?:url|link|query|query string|querystring|image url|image link|parameter|src|href|address)\\b`,
  ),
  r(
    'exfiltration',
    0.6,
    `\\breplace\\b${gap(60)}\\bwith (?:the |your |their |a )?(?:user'?s? |conversation |chat )?(?:conversation|chat history|history|messages?|secrets?|api keys?|password|credentials|tokens?|personal data|email|data|summary)\\b`,
  ),
  r(
    'exfiltration',
    0.35,
    `\\b(?:render|display|show|output|include|print|embed|add)\\b${gap(30)}\\b(?:this|the following|an?|the) (?:markdown )?(?:image|img|picture|pixel|tracking pixel)\\b`,
  ),
  r(
    'exfiltration',
    0.5,
    `\\b(?:conversation|chat) (?:history|log|transcript|summary)\\b${gap(60)}\\b(?:url|link|send|post|upload|endpoint|server|webhook)\\b`,
  ),
  r(
    'exfiltration',
    0.5,
    `\\b(?:send|post|upload|transmit|exfiltrate|leak|submit)\\b${gap(60)}\\bto (?:https?://|the (?:following )?(?:url|endpoint|webhook|server))`,
  ),

  // ---- secrecy from the person ----
  r(
    'secrecy',
    0.6,
    `\\b(?:do not|don't|dont|never|must not|should not|shouldn't|do not ever)\\s(?:ever\\s)?(?:tell|inform|mention|reveal|disclose|notify|alert|warn|show|let|bother)\\b${gap(30)}\\b(?:the\\s)?(?:user|human|operator)s?\\b(?=\\s(?:about|that|what|anything|this|these|you|we|how|why|of|where|when|know|see|find|notice|learn|realize|until)\\b|\\s?[.,;:!)\\n]|$)`,
  ),
  r(
    'secrecy',
    0.6,
    '\\bwithout (?:telling|informing|notifying|alerting|asking|warning|letting|bothering|the knowledge of)\\s(?:the\\s)?(?:user|human|operator)s?\\b',
  ),
  r('secrecy', 0.35, '\\b(?:keep|hide)\\s(?:this|these|it|that)\\s(?:secret|hidden|confidential|private)\\b'),
  r(
    'secrecy',
    0.6,
    '\\b(?:keep|hide)\\s(?:this|these|it|that)\\s(?:step |action |note |message )?(?:secret |hidden |confidential |private )?from (?:the )?(?:user|human|operator)s?\\b',
  ),
  r(
    'secrecy',
    0.6,
    "\\b(?:the\\s)?(?:user|human)\\s(?:must|should|need|does|will)\\s?(?:not|n't) (?:know|see|be told|be informed|notice|find out|learn|be made aware)",
  ),
  r(
    'secrecy',
    0.5,
    "\\b(?:do not|don't|never) (?:mention|reveal|disclose|acknowledge) (?:this|these|that|the (?:above|following)) (?:instructions?|message|note|step|action|request)",
  ),
  r(
    'secrecy',
    0.6,
    '\\bthis (?:message |text |note |section )?is (?:invisible|hidden|not visible) (?:to|from) the (?:user|human)',
  ),
  r('secrecy', 0.25, '\\b(?:silently|covertly|secretly|discreetly)\\b'),
  r('secrecy', 0.6, `\\bno (?:le |les )?(?:digas|informes|menciones|cuentes|reveles)\\b${gap(20)}\\busuario`),
  r(
    'secrecy',
    0.6,
    `\\bne (?:le |lui |leur )?(?:dis|dites|mentionne|mentionnez|revele|revelez|signale|signalez)\\b${gap(30)}\\butilisateur`,
  ),
  r(
    'secrecy',
    0.6,
    `\\b(?:sag|sage|erwahne|verrate|teile)\\b${gap(30)}\\b(?:dem |den )?(?:benutzer|nutzer|anwender)\\b${gap(15)}\\bnicht`,
  ),
  r('secrecy', 0.6, '(?:不要|别|切勿|不得)(?:告诉|通知|提醒|透露给)(?:用户|使用者)'),

  // ---- extracting the system prompt ----
  r(
    'prompt-extraction',
    0.5,
    `\\b(?:reveal|print|output|repeat|show|display|dump|leak|tell me|give me|write out|disclose)\\b${gap(20)}\\b(?:your|the) (?:system prompt|system message|initial instructions|hidden instructions|original instructions|initial prompt|instructions above|secret instructions|confidential instructions)\\b`,
  ),
  r('prompt-extraction', 0.6, '\\brepeat (?:the|all|every) (?:words|text|lines|tokens) above\\b'),

  // ---- encoded payloads with an instruction to decode them ----
  r(
    'encoded-instruction',
    0.6,
    `\\b(?:decode|base64[- ]decode|rot13|reverse|unscramble|translate)\\b${gap(50)}\\b(?:and|then)\\s(?:follow|execute|run|obey|do|perform|carry out|act on)\\b`,
  ),
];

/**
 * Phrases looked for in the letters-only form of the text (and its reverse and ROT13), which
 * catches them split by spaces, dots, dashes or line breaks. Only long phrases: short ones would
 * match across word boundaries by chance.
 */
export const COMPACT_RULES: readonly InjectionRule[] = [
  r(
    'instruction-override',
    0.8,
    '(?:ignore|disregard|forget|bypass|override)(?:all|any|the|your|of)?(?:the)?(?:previous|prior|above|earlier|preceding|system|original|initial)(?:instructions?|prompts?|rules|directions|guidelines|commands)',
  ),
  r('secrecy', 0.6, '(?:donot|dont|never)(?:tell|inform|mention|reveal|notify)(?:this)?(?:to)?theuser'),
  r('role-spoof', 0.6, 'imstartsystem|endoftextsystem'),
];

/** Words of texts that write about attacks rather than carry one (articles, reports, tests). */
export const DISCUSSION_STRONG =
  /\b(?:prompt injections?|injection attacks?|jailbreak(?:s|ing)?|attackers?|malicious|adversarial|payloads?|red[- ]team(?:ing|ers)?|researchers?|vulnerabilit(?:y|ies)|exploit(?:s|ed|ation)?|owasp|cve-\d{4}|guardrails?|detectors?|classifiers?|threat models?|attaques?|ataques?|angriffe?|angreifer|injection)\b/g;

/** Weaker signs of quotation or code, enough when the match is itself quoted. */
export const DISCUSSION =
  /\b(?:prompt injections?|injection|jailbreak(?:s|ing)?|attack(?:s|ers?)?|malicious|adversarial|payloads?|red[- ]team(?:ing|ers)?|for example|for instance|e\.g\.|such as|phrases? like|strings? like|phrases comme|examples?|exemples?|ejemplos?|beispiele?|esempio|detect(?:s|ed|ing|ion|ors?)?|classif(?:y|ier|iers|ication)|guardrails?|researchers?|vulnerabilit(?:y|ies)|exploit(?:s|ed|ation)?|tests?|assert|expect|owasp|cve-\d{4}|sanitiz(?:e|er|ing)|filter(?:s|ing)?|blocklist|denylist|mitigat(?:e|ion|ions)|defen[cs]es?|threat models?|warning signs?|const|let|var|def|function|return|import|template|tokenizer|formatter|typisch|angriffs?|attaques?)\b/;
