import { describe, expect, it } from '@jest/globals';
import { decryptText, encryptText, maskPhone, pseudonymizePhone } from '../../src/privacy/phone.js';

describe('phone numbers', () => {
  it('pseudonymizes with a key: stable, keyed, not the number', () => {
    const a = pseudonymizePhone('key-one-key-one-key-one-key-one!', '+22376123456');
    expect(a).toBe(pseudonymizePhone('key-one-key-one-key-one-key-one!', '+22376123456'));
    expect(a).not.toBe(pseudonymizePhone('key-two-key-two-key-two-key-two!', '+22376123456'));
    expect(a).not.toBe(pseudonymizePhone('key-one-key-one-key-one-key-one!', '+22376123457'));
    expect(a).not.toContain('76123456');
  });

  it('masks for operators', () => {
    expect(maskPhone('+22376123456')).toBe('+223 76 •• •• 56');
    expect(maskPhone('+33612345678')).not.toContain('1234');
  });

  it('encrypts with AES-GCM: round trip, fresh IV, tamper detected', () => {
    const key = 'ab'.repeat(32);
    const a = encryptText(key, '+22376123456');
    const b = encryptText(key, '+22376123456');
    expect(a).not.toBe(b);
    expect(a).not.toContain('76123456');
    expect(decryptText(key, a)).toBe('+22376123456');
    const parts = a.split('.');
    const data = Buffer.from(parts[3]!, 'base64url');
    data[0] = data[0]! ^ 1;
    parts[3] = data.toString('base64url');
    expect(() => decryptText(key, parts.join('.'))).toThrow();
    expect(() => decryptText('cd'.repeat(32), a)).toThrow();
  });
});
