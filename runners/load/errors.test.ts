import { describe, expect, it } from 'vitest';
import { classifyError, RequestTimeoutError } from './errors';

const coded = (code: string, extra: object = {}): Error => Object.assign(new Error(code), { code }, extra);

describe('classifyError', () => {
  it('maps the errors a publisher meets to their class', () => {
    expect(classifyError(coded('ECONNREFUSED'))).toEqual({ errorClass: 'refused', code: 'ECONNREFUSED' });
    expect(classifyError(new AggregateError([coded('ECONNREFUSED')]))).toEqual({ errorClass: 'refused', code: 'ECONNREFUSED' });
    expect(classifyError(coded('UND_ERR_SOCKET', { cause: coded('ECONNRESET') })).errorClass).toBe('reset');
    expect(classifyError(coded('UND_ERR_SOCKET')).errorClass).toBe('reset');
    expect(classifyError(coded('UND_ERR_HEADERS_TIMEOUT')).errorClass).toBe('timeout');
    expect(classifyError(coded('UND_ERR_CONNECT_TIMEOUT')).errorClass).toBe('timeout');
    expect(classifyError(new RequestTimeoutError(2000)).errorClass).toBe('timeout');
    expect(classifyError(coded('UND_ERR_DESTROYED')).errorClass).toBe('aborted');
    expect(classifyError(Object.assign(new Error('x'), { name: 'AbortError' })).errorClass).toBe('aborted');
    expect(classifyError(coded('EHOSTUNREACH'))).toEqual({ errorClass: 'other', code: 'EHOSTUNREACH' });
    expect(classifyError('weird')).toEqual({ errorClass: 'other', code: 'string' });
  });
});
