// The detection library the guardrail framework builds on: pure, linear-time functions from text
// (or a tool definition) to a Scan. Each detector's default threshold turns a score into a verdict.
import { HIDDEN_TEXT_THRESHOLD, scanHiddenText } from './hidden-text.ts';
import { INJECTION_THRESHOLD, scanInjection } from './injection.ts';
import { PII_THRESHOLD, scanPii } from './pii.ts';
import { SECRETS_THRESHOLD, scanSecrets } from './secrets.ts';
import type { Detector } from './types.ts';

export {
  decodeTags,
  HIDDEN_TEXT_THRESHOLD,
  type HiddenFinding,
  type HiddenScan,
  scanHiddenText,
  stripHidden,
} from './hidden-text.ts';
export { INJECTION_THRESHOLD, scanInjection } from './injection.ts';
export { maskPii, PII_KINDS, PII_THRESHOLD, type PiiKind, scanPii } from './pii.ts';
export { maskSecrets, SECRETS_THRESHOLD, scanSecrets } from './secrets.ts';
export {
  type DefinitionField,
  flattenToolDefinition,
  scanToolDefinition,
  TOOL_DEFINITION_THRESHOLD,
  type ToolDefinition,
  type ToolDefinitionContext,
  type ToolDefinitionFinding,
  type ToolDefinitionScan,
} from './tool-definition.ts';
export { type Detector, emptyScan, type Finding, type Scan } from './types.ts';

/** The text detectors by name, with the threshold at or above which a Scan's score flags the text. */
export const TEXT_DETECTORS: Readonly<Record<string, { scan: Detector; threshold: number }>> = Object.freeze({
  pii: { scan: scanPii, threshold: PII_THRESHOLD },
  secrets: { scan: scanSecrets, threshold: SECRETS_THRESHOLD },
  'hidden-text': { scan: scanHiddenText, threshold: HIDDEN_TEXT_THRESHOLD },
  injection: { scan: scanInjection, threshold: INJECTION_THRESHOLD },
});
