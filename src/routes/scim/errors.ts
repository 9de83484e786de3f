// Maps anything thrown under /scim/v2 to an RFC 7644 §3.12 error: data faults are 4xx (a 5xx makes
// Entra ID retry forever); only a fault of our own is a 500.
import type { FastifyError } from 'fastify';
import { ScimError, errorBody, type ScimErrorBody } from '../../scim/errors.js';

export function toScimError(error: unknown, bodyLimit: number): { status: number; body: ScimErrorBody } {
  if (error instanceof ScimError) return { status: error.status, body: errorBody(error.status, error.message, error.scimType) };
  const e = error as Partial<FastifyError> & { validationContext?: string };
  if (e.validation) {
    const where = e.validationContext === 'body' ? 'body' : e.validationContext === 'params' ? 'path' : 'query';
    const detail = `Invalid ${where}: ${e.message ?? 'validation failed'}`;
    return { status: 400, body: errorBody(400, detail, where === 'body' ? 'invalidSyntax' : 'invalidValue') };
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: errorBody(413, `The request body is larger than the limit of ${bodyLimit} bytes`) };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: errorBody(415, 'Send the body as application/scim+json or application/json') };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, body: errorBody(400, 'The request body is empty: a JSON object is expected', 'invalidSyntax') };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, body: errorBody(400, 'The Content-Length header does not match the body', 'invalidSyntax') };
  }
  if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    // a uniqueness race the service's own check did not see (e.g. a concurrent writer): a data fault
    return { status: 409, body: errorBody(409, 'The resource conflicts with an existing one (uniqueness)', 'uniqueness') };
  }
  if (e.code === 'IAMTRAIL_JSON') return { status: 400, body: errorBody(400, `Malformed JSON: ${e.message ?? 'could not parse the body'}`, 'invalidSyntax') };
  // any other SyntaxError's message may quote the text it failed on: it is not repeated
  if (error instanceof SyntaxError) return { status: 400, body: errorBody(400, 'Malformed JSON: the body could not be parsed', 'invalidSyntax') };
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500;
  if (status < 500) return { status, body: errorBody(status, e.message ?? 'Bad request') };
  return { status: 500, body: errorBody(500, 'Internal server error: the request was not applied and has been logged') };
}
