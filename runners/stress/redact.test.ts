import { describe, expect, it } from 'vitest';
import { maskUrlCredentials, redactDeep, redactText, secretsOf } from './redact';

describe('redaction', () => {
  it('removes every occurrence of every secret from strings and keys, deeply', () => {
    const secrets = secretsOf(['tp-abcdef123456', 'dev-token', undefined, '', 'x']);
    expect(secrets).toEqual(['tp-abcdef123456', 'dev-token']);
    const v = { a: 'key tp-abcdef123456 and dev-token', list: ['dev-token'], n: 5, nested: { 'dev-token': null } };
    expect(redactDeep(v, secrets)).toEqual({ a: 'key *** and ***', list: ['***'], n: 5, nested: { '***': null } });
  });

  it('masks credentials inside URLs', () => {
    expect(maskUrlCredentials('GET http://user:pw@host:8086/query failed')).toBe('GET http://***@host:8086/query failed');
    expect(redactText('no secret here', [])).toBe('no secret here');
  });
});
