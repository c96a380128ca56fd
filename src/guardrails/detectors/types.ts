// The one shape every detector returns. Detectors are pure functions from text to a Scan: no I/O,
// no state, linear time in the length of the text, and they never throw on any input string.
// The guardrail framework decides what a Scan means (flag, mask, block) with a threshold.

export interface Finding {
  /** 'pii' | 'secrets' | 'injection' | 'hidden-text' | 'tool-definition' */
  detector: string;
  /** What was found, e.g. 'email', 'card', 'aws-access-key', 'instruction-override', 'zero-width'. */
  kind: string;
  /** UTF-16 offsets into the scanned text; `start < end`, `end <= text.length`. */
  start: number;
  end: number;
  /** 0..1 confidence of this finding. */
  score: number;
}

export interface Scan {
  findings: Finding[];
  /** Detector-level 0..1: the max of the findings, or a combination of them (see each detector). */
  score: number;
}

/** A detector as the framework sees it. */
export type Detector = (text: string) => Scan;

/** A fresh empty Scan (never shared, so a caller may add to its findings). */
export function emptyScan(): Scan {
  return { findings: [], score: 0 };
}
