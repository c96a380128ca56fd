// Checks one instance's chain, read in `seq` order, and names the first problem.
//
// What the chain proves, and what it cannot:
// - Verification starts at the oldest record kept and trusts its `prevHash` as the anchor:
//   retention deletes the oldest records (a prefix of each chain), so a chain that does not
//   start at seq 1 / GENESIS is expected, and the result says where it started.
// - Removing the newest records (a suffix) leaves a shorter chain that is still intact; so does
//   rewriting every record after some point with fresh hashes, since the hash has no secret.
//   Copies outside the store (SIEM sinks, exports) carry every record's hash and are the
//   witnesses for those; `head` is the value to compare with them.
import { GENESIS, recordHash } from './chain.ts';
import type { StoredRecord } from './record.ts';

export type ProblemKind = 'edited' | 'deleted' | 'inserted' | 'reordered';

export interface ChainProblem {
  kind: ProblemKind;
  /** The record the problem is named by. */
  id: string;
  seq: number;
  message: string;
}

interface Place {
  id: string;
  seq: number;
  time: string;
}

export interface VerifyResult {
  ok: boolean;
  /** Records read before stopping (all of them when ok). */
  checked: number;
  /** The first record read, and whether the chain starts at the genesis (nothing pruned). */
  first?: Place & { prevHash: string; fromGenesis: boolean };
  /** The last record read and its hash (when ok: the chain's head). */
  last?: Place & { hash: string };
  problem?: ChainProblem;
}

const place = (r: StoredRecord): Place => ({ id: r.id, seq: r.seq, time: r.time });
const named = (r: StoredRecord) => `seq ${r.seq} (id ${r.id})`;

/** Reads the whole chain (one record of look-ahead, nothing else kept) and stops at the first problem. */
export async function verifyChain(records: AsyncIterable<StoredRecord>): Promise<VerifyResult> {
  const result: VerifyResult = { ok: true, checked: 0 };
  let prev: StoredRecord | undefined;
  let current: StoredRecord | undefined;
  const step = (next: StoredRecord | undefined): boolean => {
    if (!current) return true;
    const problem = diagnose(prev, current, next);
    result.checked++;
    if (problem) {
      result.ok = false;
      result.problem = problem;
      return false;
    }
    if (!prev)
      result.first = { ...place(current), prevHash: current.prevHash, fromGenesis: isGenesis(current) };
    result.last = { ...place(current), hash: current.hash };
    prev = current;
    return true;
  };
  for await (const next of records) {
    if (!step(next)) return result;
    current = next;
  }
  step(undefined);
  return result;
}

const isGenesis = (r: StoredRecord) => r.seq === 1 && r.prevHash === GENESIS;

/**
 * Which tampering explains what is seen at `r`, given the record accepted before it and the one
 * after it. The order of the tests matters: the more specific patterns come first.
 */
function diagnose(
  prev: StoredRecord | undefined,
  r: StoredRecord,
  next: StoredRecord | undefined,
): ChainProblem | undefined {
  const selfOk = recordHash(r) === r.hash;
  const linkOk = !prev || r.prevHash === prev.hash;
  const seqOk = !prev || r.seq === prev.seq + 1;
  if (selfOk && linkOk && seqOk) return undefined;
  const problem = (kind: ProblemKind, at: StoredRecord, message: string): ChainProblem => ({
    kind,
    id: at.id,
    seq: at.seq,
    message: `${named(at)} ${message}`,
  });
  if (prev) {
    // Two records claiming the same predecessor: the earlier one is the one the chain never had.
    if (r.prevHash === prev.prevHash) {
      return problem('inserted', prev, `was inserted: ${named(r)} follows the same record it does`);
    }
    // r's own predecessor comes after it.
    if (next && next.hash === r.prevHash) {
      return problem('reordered', r, `is out of order: it follows ${named(next)}, which comes after it`);
    }
    // The chain goes on from prev to next as if r were not there.
    if (next && next.prevHash === prev.hash) {
      return problem('inserted', r, `was inserted: ${named(next)} follows ${named(prev)} directly`);
    }
  }
  if (!selfOk) {
    if (linkOk || (prev && recordHash({ ...r, prevHash: prev.hash }) === r.hash)) {
      return problem('edited', r, 'was edited: its content does not match its hash');
    }
    return problem(
      'deleted',
      r,
      `does not follow ${prev ? named(prev) : 'anything kept'} and was renumbered: records before it were deleted`,
    );
  }
  if (prev && !linkOk) {
    if (r.seq > prev.seq + 1) {
      const missing =
        r.seq - 1 === prev.seq + 1 ? `seq ${prev.seq + 1} is` : `seq ${prev.seq + 1}-${r.seq - 1} are`;
      return problem('deleted', r, `does not follow ${named(prev)}: ${missing} missing`);
    }
    if (r.seq <= prev.seq)
      return problem('inserted', r, `repeats or goes back in the numbering after ${named(prev)}`);
    return problem(
      'edited',
      prev,
      `was edited and its hash recomputed (or records after it were deleted and rewritten): ${named(r)} does not follow it`,
    );
  }
  return problem('edited', r, `is numbered out of sequence after ${prev ? named(prev) : 'nothing'}`);
}
