// JSON-RPC 2.0 message shapes, and the one place a raw body becomes a typed message.
import { GatewayError } from './errors.ts';

export type Id = string | number;
export type Params = Record<string, unknown>;

export interface Request {
  jsonrpc: '2.0';
  id: Id;
  method: string;
  params?: Params;
}
export interface Notification {
  jsonrpc: '2.0';
  method: string;
  params?: Params;
}
export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}
export interface Response {
  jsonrpc: '2.0';
  id: Id | null;
  result?: Record<string, unknown>;
  error?: RpcError;
}
export type Message = Request | Notification | Response;

// A response is serialized where it is sent and measured where it is audited: whichever comes
// first makes the text, the other reuses it.
const texts = new WeakMap<Response, string>();

/** `JSON.stringify(response)`, made once per response object (treat it as immutable once sent). */
export function responseText(response: Response): string {
  let text = texts.get(response);
  if (text === undefined) {
    text = JSON.stringify(response);
    texts.set(response, text);
  }
  return text;
}

export const isRequest = (m: Message): m is Request => 'method' in m && 'id' in m && m.id !== undefined;
export const isNotification = (m: Message): m is Notification => 'method' in m && !('id' in m);
export const isResponse = (m: Message): m is Response => !('method' in m);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks one decoded value is a JSON-RPC 2.0 message. Returns the message, or the reason it is
 * not one; ids must be strings or integers (the MCP spec forbids null ids on requests).
 */
export function toMessage(v: unknown): Message | string {
  if (!isObject(v)) return 'a JSON-RPC message must be a JSON object';
  if (v.jsonrpc !== '2.0') return 'jsonrpc must be "2.0"';
  if ('params' in v && v.params !== undefined && !isObject(v.params)) return 'params must be an object';
  // MCP peers (the official SDKs among them) drop a message whose `_meta` is not an object
  // without answering: forwarded, it would hold the call open until the upstream timeout.
  if (isObject(v.params) && v.params._meta !== undefined && !isObject(v.params._meta)) {
    return 'params._meta must be an object';
  }
  const hasId = 'id' in v;
  if (hasId && typeof v.id !== 'string' && !(typeof v.id === 'number' && Number.isInteger(v.id))) {
    if (!(v.id === null && !('method' in v))) return 'id must be a string or an integer';
  }
  if ('method' in v) {
    if (typeof v.method !== 'string' || v.method.length === 0) return 'method must be a non-empty string';
    return v as unknown as Message;
  }
  if (!hasId) return 'a message needs a method or an id';
  const hasResult = 'result' in v;
  const hasError = 'error' in v;
  if (hasResult === hasError) return 'a response carries exactly one of result or error';
  if (hasResult && !isObject(v.result)) return 'result must be an object';
  if (hasError && (!isObject(v.error) || typeof v.error.code !== 'number')) return 'error must be an object';
  return v as unknown as Message;
}

/** Parses a body that must hold one message (or, if `allowBatch`, an array of them). */
export function parseBody(text: string, allowBatch: boolean): Message[] | { batch: false; message: Message } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new GatewayError('parse_error', 'Parse error: the body is not valid JSON');
  }
  if (Array.isArray(value)) {
    if (!allowBatch) {
      throw new GatewayError(
        'batch_not_supported',
        'JSON-RPC batches are not supported in this protocol version',
      );
    }
    if (value.length === 0) throw new GatewayError('invalid_request', 'Invalid Request: empty batch');
    return value.map((item) => {
      const m = toMessage(item);
      if (typeof m === 'string') throw new GatewayError('invalid_request', `Invalid Request: ${m}`);
      return m;
    });
  }
  const m = toMessage(value);
  if (typeof m === 'string') throw new GatewayError('invalid_request', `Invalid Request: ${m}`);
  return { batch: false, message: m };
}

export const result = (id: Id, value: Record<string, unknown>): Response => ({
  jsonrpc: '2.0',
  id,
  result: value,
});
export const failure = (id: Id | null, error: RpcError): Response => ({ jsonrpc: '2.0', id, error });
