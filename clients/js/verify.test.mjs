// Replays the shared test vectors through the JavaScript verifier: `node --test clients/js/`.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { Action, Status, check, trustedKeysFromJwks } from './verify.mjs';

const vectors = JSON.parse(readFileSync(new URL('../vectors/license-keys.json', import.meta.url), 'utf8'));

test('the vectors cover every status and every action', () => {
  const statuses = new Set(vectors.cases.map((vector) => vector.expected.status));
  const actions = new Set(vectors.cases.map((vector) => vector.expected.action));
  assert.deepEqual([...statuses].sort(), Object.values(Status).sort());
  assert.deepEqual([...actions].sort(), Object.values(Action).sort());
});

for (const vector of vectors.cases) {
  test(`vector ${vector.name}`, () => {
    const verdict = check(vector.key, vectors.trusted_jwks, vector.host, vector.revoked);
    assert.deepEqual(verdict, vector.expected);
  });
}

test('a Map of trusted keys works like the JWK Set', () => {
  const trusted = trustedKeysFromJwks(vectors.trusted_jwks);
  for (const vector of vectors.cases) {
    assert.equal(check(vector.key, trusted, vector.host, new Set(vector.revoked)).status, vector.expected.status);
  }
});

test('changing any character of a valid key never makes it valid and never throws', () => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
  const valid = vectors.cases.filter((vector) => vector.expected.status === Status.VALID
    && !/\s/.test(vector.key) && !vector.key.includes('\u200b'));
  let checked = 0;
  for (const vector of valid.slice(0, 6)) {
    const { key } = vector;
    for (let index = 0; index < key.length; index += 1) {
      const replacement = alphabet[(alphabet.indexOf(key[index]) + 1 + (index % 64)) % alphabet.length];
      const tampered = key.slice(0, index) + replacement + key.slice(index + 1);
      const verdict = check(tampered, vectors.trusted_jwks, vector.host, vector.revoked);
      assert.ok([Status.MALFORMED, Status.BAD_SIGNATURE, Status.UNKNOWN_KEY].includes(verdict.status),
        `${vector.name} at ${index}: ${verdict.status}`);
      assert.equal(verdict.payload, null);
      checked += 1;
    }
    for (let length = 0; length < key.length; length += 7) {
      const verdict = check(key.slice(0, length), vectors.trusted_jwks, vector.host, vector.revoked);
      assert.notEqual(verdict.status, Status.VALID);
    }
  }
  assert.ok(checked > 1000);
});

test('text that is not a key is MALFORMED, not an exception', () => {
  const host = vectors.cases[0].host;
  for (const text of [undefined, null, 42, {}, '', '...', 'a.b.c', '\u{1f511}'.repeat(5000), 'x'.repeat(20000)]) {
    assert.equal(check(text, vectors.trusted_jwks, host).status, Status.MALFORMED);
  }
});

test('an invalid host context or trust list is a programming error and throws', () => {
  const { key, host } = vectors.cases[0];
  assert.throws(() => check(key, vectors.trusted_jwks, { ...host, hosting: 'mainframe' }), TypeError);
  assert.throws(() => check(key, vectors.trusted_jwks, { ...host, today: '15/06/2025' }), TypeError);
  const withPrivateKey = { keys: [{ ...vectors.trusted_jwks.keys[0], d: 'AAAA' }] };
  assert.throws(() => check(key, withPrivateKey, host), TypeError);
  assert.throws(() => check(key, vectors.trusted_jwks, { ...host, app_vendor: 'vendor:example-labs' }), TypeError);
});

test('a trusted key that does not name its issuer is refused: it could sign for anyone', () => {
  for (const iss of [undefined, '', 'Operator', 'vendor:', 'example-labs', 7]) {
    const { iss: _, ...jwk } = vectors.trusted_jwks.keys[0];
    const keys = [iss === undefined ? jwk : { ...jwk, iss }];
    assert.throws(() => trustedKeysFromJwks({ keys }), /issuer/);
  }
});

test('the forgeries of the vectors are signed by trusted keys, and refused only for who signed them', () => {
  const trusted = trustedKeysFromJwks(vectors.trusted_jwks);
  const forgeries = vectors.cases.filter((vector) => vector.expected.action === Action.CONTACT_SELLER
    && vector.expected.status === Status.UNKNOWN_KEY);
  assert.ok(forgeries.length >= 2);
  for (const vector of forgeries) {
    const kid = JSON.parse(Buffer.from(vector.key.split('.')[0], 'base64url')).kid;
    assert.ok(trusted.has(kid), vector.name);
  }
});
