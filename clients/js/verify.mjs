// Offline verifier of Mercato license keys, for Node 20+, with no dependency but node:crypto.
//
// It mirrors the Python reference (src/mercato/licensing/reading.py and verify.py): same format, same checks
// in the same order, same statuses, actions and messages. clients/vectors/license-keys.json proves it: both replay it.
// The format is described in docs/license-keys.md.

import { createPublicKey, verify as verifySignature } from 'node:crypto';

/** Statuses in precedence order: the first failure wins. */
export const Status = Object.freeze({
  MALFORMED: 'MALFORMED',
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  UNKNOWN_KEY: 'UNKNOWN_KEY',
  APP_MISMATCH: 'APP_MISMATCH',
  HOST_MISMATCH: 'HOST_MISMATCH',
  REVOKED: 'REVOKED',
  USERS_EXCEEDED: 'USERS_EXCEEDED',
  USER_MISMATCH: 'USER_MISMATCH',
  TYPE_MISMATCH: 'TYPE_MISMATCH',
  EXPIRED: 'EXPIRED',
  VERSION_MISMATCH: 'VERSION_MISMATCH',
  VALID: 'VALID',
});

/** What the admin does about a verdict. */
export const Action = Object.freeze({
  NONE: 'NONE',
  GET_NEW_KEY: 'GET_NEW_KEY',
  CONTACT_SELLER: 'CONTACT_SELLER',
  BUY: 'BUY',
  UPGRADE: 'UPGRADE',
  RENEW: 'RENEW',
});

export const MAX_KEY_LENGTH = 4096;
/**
 * Removed anywhere in a pasted key (the Python verifier removes the same set): every Unicode white space
 * character, and the invisible characters e-mail clients and editors insert (soft hyphen, Mongolian vowel
 * separator, zero-width space, non-joiner and joiner, word joiner, byte-order mark).
 */
export const PASTE_NOISE = '\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006'
  + '\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000'
  + '\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff';

const TOKEN_TYPE = 'mercato-license+jwt';
const FORMAT_VERSION = 1;
const MAX_TIER = 1_000_000_000;
const MAX_TIMESTAMP = 253402300799;
const CLAIMS = new Set(['v', 'lic', 'sen', 'app', 'hosting', 'channel', 'iss', 'type', 'tier', 'bind',
  'maint', 'term', 'eval', 'iat', 'jti']);
// Claims a payload may leave out: lu (licensed users; absent means false).
const OPTIONAL_CLAIMS = new Set(['lu']);
const HOSTINGS = new Set(['server', 'datacenter', 'cloud']);
const CHANNELS = new Set(['marketplace', 'direct']);
const LICENSE_TYPES = new Set(['commercial', 'academic', 'starter', 'community', 'open_source', 'evaluation',
  'developer']);
const PAID_TYPES = new Set(['commercial', 'academic', 'starter']);
const UNPAID_TYPES = new Set(['community', 'open_source', 'developer']);
const HOSTING_NAMES = { server: 'Server', datacenter: 'Data Center', cloud: 'Cloud' };
const HOSTING_PLACES = {
  server: 'a Server installation', datacenter: 'a Data Center installation', cloud: 'a Cloud site',
};

const TOKEN = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;
const KID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const VENDOR_SLUG = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const ISSUER = /^(?:operator|vendor:[A-Za-z0-9][A-Za-z0-9._-]{0,99})$/;
const ISO_DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
// Python's str.isprintable() without the space: no Other (C*) and no Separator (Z*) characters.
const IDENTIFIER = /^[^\p{C}\p{Z}]+$/u;
// JSON strings, or JSON numbers: to refuse numbers written with a fraction or an exponent (10.0 is not a
// tier), which JSON.parse would turn into integers where Python keeps floats.
const JSON_STRING_OR_NUMBER = /"(?:[^"\\]|\\.)*"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/g;
const NOISE_CHARACTERS = new Set(PASTE_NOISE);
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const UTF8 = new TextDecoder('utf-8', { fatal: true });

const REPASTE = 'Copy the whole key again, from the e-mail or from your licenses page.';
const EMPTY = 'The license key is empty. Paste the whole key, from the e-mail or from your licenses page.';
const TOO_LONG = `This text is too long to be a license key (a key has at most ${MAX_KEY_LENGTH} characters). `
  + 'Paste only the key, from the e-mail or from your licenses page.';
const NOT_A_KEY = "This is not a complete license key: a key is three blocks of letters, digits, '-' and '_' "
  + `joined by dots. ${REPASTE}`;
const BAD_HEADER = 'This is not a Mercato license key: its header must declare the algorithm EdDSA, the type '
  + `${TOKEN_TYPE} and a signing key id. ${REPASTE}`;
const BAD_PAYLOAD = `This key's content is not a valid license. ${REPASTE}`;

class Malformed extends Error {
  constructor(message, action = Action.GET_NEW_KEY) {
    super(message);
    this.action = action;
  }
}

/**
 * Read a JWK Set into a Map of kid → {issuer, key}: each trusted public key (a KeyObject) with the one issuer
 * whose license keys it may sign, from the JWK's `iss` ('operator' or 'vendor:<slug>'). Throws on any key it
 * cannot trust, a key without its issuer included: a trust list with a wrong entry is a configuration error,
 * not a license problem.
 */
export function trustedKeysFromJwks(jwks) {
  if (!isObject(jwks) || !Array.isArray(jwks.keys)) throw new TypeError("a JWK Set is an object with a 'keys' list");
  const trusted = new Map();
  for (const jwk of jwks.keys) {
    const kid = isObject(jwk) ? jwk.kid : undefined;
    if (typeof kid !== 'string' || !KID.test(kid)) throw new TypeError(`the JWK has no valid kid: ${kid}`);
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') throw new TypeError(`the JWK ${kid} is not an OKP/Ed25519 key`);
    if ((jwk.alg ?? 'EdDSA') !== 'EdDSA' || (jwk.use ?? 'sig') !== 'sig') {
      throw new TypeError(`the JWK ${kid} is not for EdDSA signatures`);
    }
    if ('d' in jwk) throw new TypeError(`the JWK ${kid} holds a private key; trust lists hold public keys only`);
    // Without its issuer a key could sign for anyone: a vendor's key would pass for the marketplace's.
    if (typeof jwk.iss !== 'string' || !ISSUER.test(jwk.iss)) {
      throw new TypeError(`the JWK ${kid} does not name its issuer: add "iss": "operator" or "vendor:<slug>"`);
    }
    if (typeof jwk.x !== 'string' || b64urlDecode(jwk.x).length !== 32) {
      throw new TypeError(`the JWK ${kid} does not hold a 32-byte Ed25519 public key`);
    }
    if (trusted.has(kid)) throw new TypeError(`the kid ${kid} appears twice in the JWK Set`);
    trusted.set(kid, {
      issuer: jwk.iss,
      key: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' }),
    });
  }
  return trusted;
}

// Parsed key sets, by JWKS object: parse once, verify many times.
const parsedJwks = new WeakMap();

/**
 * Check a pasted license key offline.
 *
 * @param {string} key        the key as pasted (whitespace and line breaks are ignored)
 * @param {object|Map} jwks   the trusted public keys, each with its issuer: a JWK Set whose keys carry
 *                            `iss`, or the Map of trustedKeysFromJwks()
 * @param {object} host       {app_key, hosting, server_id, host_tier, host_license_type, app_users,
 *                             build_date, today, host_name?, app_vendor?}; dates as "YYYY-MM-DD", null tier =
 *                             unlimited; app_vendor: the slug of the vendor that sells the app directly
 *                             (null, the default: nobody does, and direct keys of the app are refused)
 * @param {Iterable<string>} revoked  revoked license ids and/or key serials
 * @returns {{status: string, action: string, message: string, payload: object|null}}
 *          payload (the license's fields) only when the key's signature verified
 */
export function check(key, jwks, host, revoked = []) {
  const context = hostContext(host);
  let trusted = jwks instanceof Map ? jwks : parsedJwks.get(jwks);
  if (trusted === undefined) {
    trusted = trustedKeysFromJwks(jwks);
    parsedJwks.set(jwks, trusted);
  }
  let token;
  try {
    token = read(key);
  } catch (error) {
    if (error instanceof Malformed) return verdict(Status.MALFORMED, error.message, error.action);
    throw error;
  }
  const trustedKey = trusted.get(token.kid);
  if (trustedKey === undefined) {
    return verdict(Status.UNKNOWN_KEY,
      `This key was signed with the signing key ${token.kid}, which this app does not trust (it may have been `
      + 'retired). Get the current key of your license from your licenses page; if it gives the same '
      + 'message, update the app.', Action.GET_NEW_KEY);
  }
  let genuine = false;
  try {
    genuine = verifySignature(null, token.signingInput, trustedKey.key, token.signature);
  } catch {
    genuine = false;
  }
  if (!genuine) {
    return verdict(Status.BAD_SIGNATURE,
      "This key's signature does not match its content: the key was changed after it was issued, or it is "
      + `not genuine. ${REPASTE}`, Action.GET_NEW_KEY);
  }
  return bindIssuer(token.kid, trustedKey.issuer, token.claims, context) ?? evaluate(token.claims, context, revoked);
}

/** UNKNOWN_KEY when the key's signer may not sell this license, as in the Python verifier; else null. */
function bindIssuer(kid, signer, claims, host) {
  const seller = sellerOf(claims.iss);
  // The signer is the seller of record the key names (claims tie marketplace keys to the operator).
  if (signer !== claims.iss) {
    return verdict(Status.UNKNOWN_KEY, `This key says it was sold by ${seller}, but it was signed with the `
      + `signing key ${kid} of ${sellerOf(signer)}: only ${seller} signs the licenses it sells, so this key is `
      + `not genuine. Contact ${seller} for a genuine key of your license.`, Action.CONTACT_SELLER);
  }
  // For a key of this app, only the app's own vendor sells it directly (a key of another app fails
  // APP_MISMATCH: the app knows its own vendor, not the vendors of other apps).
  const directSeller = host.app_vendor === null ? null : `vendor:${host.app_vendor}`;
  if (claims.channel === 'direct' && claims.app === host.app_key && claims.iss !== directSeller) {
    const rightful = directSeller === null ? 'the marketplace' : sellerOf(directSeller);
    const sellers = directSeller === null ? 'no vendor sells' : `only ${rightful} sells`;
    return verdict(Status.UNKNOWN_KEY, `This key says it is a direct license of ${claims.app} from ${seller}, `
      + `but ${sellers} ${claims.app} directly, so this key is not genuine. Contact ${rightful} for a genuine `
      + 'key of your license.', Action.CONTACT_SELLER);
  }
  return null;
}

const sellerOf = (issuer) => (issuer === 'operator' ? 'the marketplace' : `the vendor (${issuer.slice(7)})`);

function evaluate(claims, host, revoked) {
  const payload = toDict(claims);
  const result = (status, message, action) => verdict(status, message, action, payload);
  const seller = sellerOf(claims.iss);
  if (claims.app !== host.app_key) {
    return result(Status.APP_MISMATCH, `This key is for the app ${claims.app}, not for ${host.app_key}. `
      + `Paste the key issued for ${host.app_key}, from your licenses page.`, Action.GET_NEW_KEY);
  }
  if (binding(claims.bind) !== binding(host.server_id)) {
    const what = host.hosting === 'cloud' ? 'site' : 'server ID';
    const serverId = stripNoise(host.server_id);
    return result(Status.HOST_MISMATCH,
      `This key is bound to the ${what} ${claims.bind}, but the ${what} of ${host.host_name} is ${serverId}. `
      + `Get a key for ${serverId} from your licenses page, or ask ${seller} to move the license.`,
      Action.GET_NEW_KEY);
  }
  const revokedIds = revoked instanceof Set ? revoked : new Set(revoked);
  if (revokedIds.has(claims.lic)) {
    return result(Status.REVOKED, `License ${claims.sen} has been revoked. Contact ${seller} to find out why `
      + 'and to get a valid license.', Action.CONTACT_SELLER);
  }
  if (revokedIds.has(claims.jti)) {
    return result(Status.REVOKED, `This key (serial ${claims.jti}) has been replaced by a newer key of license `
      + `${claims.sen}. Paste the newest key, from your licenses page.`, Action.GET_NEW_KEY);
  }
  const exempt = claims.eval || host.host_license_type === 'evaluation';
  const sameHosting = claims.hosting === host.hosting;
  const tier = claims.tier === 'unlimited' ? null : claims.tier;
  if (!exempt && sameHosting && tier !== null) {
    // Direct licenses, and marketplace licenses of listings that sell licensed users, count the app's users.
    if (claims.channel === 'direct' || claims.lu === true) {
      if (host.app_users !== null && host.app_users > tier) {
        const kind = claims.channel === 'direct' ? 'direct' : 'licensed-users';
        return result(Status.USERS_EXCEEDED, `This key is for ${users(tier)} but the app has `
          + `${users(host.app_users)}. A ${kind} license admits at most its tier: upgrade the app license to at `
          + `least ${users(host.app_users)}, or remove ${users(host.app_users - tier)} from the app.`,
        Action.UPGRADE);
      }
    } else if (host.host_tier === null || tier < host.host_tier) {
      return result(Status.USER_MISMATCH, `This key is for ${users(tier)} but ${host.host_name} has `
        + `${users(host.host_tier)}. Marketplace licenses must cover every user of the host: upgrade the app `
        + `to the ${host.host_tier === null ? 'unlimited' : `${host.host_tier}-user`} tier.`, Action.UPGRADE);
    }
  }
  if (!sameHosting) {
    return result(Status.TYPE_MISMATCH, `This key is for ${HOSTING_PLACES[claims.hosting]}, but `
      + `${host.host_name} is ${HOSTING_PLACES[host.hosting]}. Buy a ${HOSTING_NAMES[host.hosting]} license of `
      + 'the app.', Action.BUY);
  }
  if (!exempt && PAID_TYPES.has(host.host_license_type) && UNPAID_TYPES.has(claims.type)) {
    return result(Status.TYPE_MISMATCH, `This is ${a(typeName(claims.type))} license, but ${host.host_name} `
      + `has ${a(typeName(host.host_license_type))} license. A paid host needs a paid app license `
      + '(commercial, academic or starter): buy one.', Action.BUY);
  }
  // ISO dates compare correctly as strings.
  if (claims.term !== null && claims.term < host.today) {
    if (claims.eval) {
      return result(Status.EXPIRED, `This evaluation license was valid until ${claims.term}. Buy a license to `
        + 'keep using the app.', Action.BUY);
    }
    return result(Status.EXPIRED, `This license's term ended on ${claims.term}. Renew it to keep using the app.`,
      Action.RENEW);
  }
  if (claims.maint !== null && host.build_date !== null && host.build_date > claims.maint) {
    return result(Status.VERSION_MISMATCH, `This version of the app was built on ${host.build_date}, after the `
      + `license's maintenance ended on ${claims.maint}. Renew maintenance to use this version, or install a `
      + `version built on or before ${claims.maint}.`, Action.RENEW);
  }
  let kind = typeName(claims.type);
  if (claims.eval && claims.type !== 'evaluation') kind += ' evaluation';
  const until = claims.term === null ? '' : `, until ${claims.term}`;
  return result(Status.VALID, `This key is valid: ${kind} license ${claims.sen} for ${users(tier)}${until}.`,
    Action.NONE);
}

function read(key) {
  if (typeof key !== 'string') throw new Malformed(EMPTY);
  let compact = key;
  // (A string of at most MAX_KEY_LENGTH UTF-16 units has at most as many code points.)
  let match = key.length <= MAX_KEY_LENGTH ? TOKEN.exec(key) : null;
  if (match === null) {
    if (codePoints(key) > 4 * MAX_KEY_LENGTH) throw new Malformed(TOO_LONG);
    compact = Array.from(key).filter((character) => !NOISE_CHARACTERS.has(character)).join('');
    if (compact.length === 0) throw new Malformed(EMPTY);
    if (codePoints(compact) > MAX_KEY_LENGTH) throw new Malformed(TOO_LONG);
    match = TOKEN.exec(compact);
    if (match === null) throw new Malformed(NOT_A_KEY);
  }
  const [, headerSegment, payloadSegment, signatureSegment] = match;
  const kid = readHeader(headerSegment);
  let signature;
  try {
    signature = b64urlDecode(signatureSegment);
  } catch {
    throw new Malformed(NOT_A_KEY);
  }
  if (signature.length !== 64) throw new Malformed(NOT_A_KEY);
  const claims = readPayload(payloadSegment);
  const signingInput = Buffer.from(`${headerSegment}.${payloadSegment}`, 'ascii');
  return { kid, signingInput, signature, claims };
}

function readHeader(segment) {
  let header;
  try {
    header = JSON.parse(UTF8.decode(b64urlDecode(segment)));
  } catch {
    throw new Malformed(BAD_HEADER);
  }
  // The algorithm is fixed; `crit` asks for extensions we do not know; other members (an embedded `jwk`)
  // are ignored: the public key is looked up by kid among the trusted keys, never taken from the token.
  if (!isObject(header) || header.alg !== 'EdDSA' || header.typ !== TOKEN_TYPE || Object.hasOwn(header, 'crit')
      || typeof header.kid !== 'string' || !KID.test(header.kid)) {
    throw new Malformed(BAD_HEADER);
  }
  return header.kid;
}

function readPayload(segment) {
  let text;
  let claims;
  try {
    text = UTF8.decode(b64urlDecode(segment));
    claims = JSON.parse(text);
  } catch {
    throw new Malformed(BAD_PAYLOAD);
  }
  if (hasNonIntegerNumber(text) || !isObject(claims) || !Number.isInteger(claims.v)) {
    throw new Malformed(BAD_PAYLOAD);
  }
  if (claims.v !== FORMAT_VERSION) {
    if (claims.v >= 2 && claims.v <= 999) {
      throw new Malformed(`This key uses license format ${claims.v}, which this version of the app cannot `
        + 'read. Update the app; if it is already the latest version, contact the seller of the license.',
      Action.CONTACT_SELLER);
    }
    throw new Malformed(BAD_PAYLOAD);
  }
  const names = Object.keys(claims);
  const optional = names.filter((name) => OPTIONAL_CLAIMS.has(name)).length;
  const known = (name) => CLAIMS.has(name) || OPTIONAL_CLAIMS.has(name);
  if (names.length - optional !== CLAIMS.size || !names.every(known)) {
    throw new Malformed(BAD_PAYLOAD);
  }
  const valid = isIdentifier(claims.lic) && isIdentifier(claims.app) && isIdentifier(claims.bind)
    && isIdentifier(claims.jti)
    && isIdentifier(claims.sen) && claims.sen.startsWith('SEN-') && codePoints(claims.sen) > 4
    && HOSTINGS.has(claims.hosting) && CHANNELS.has(claims.channel) && LICENSE_TYPES.has(claims.type)
    && (claims.channel === 'marketplace' ? claims.iss === 'operator'
      : typeof claims.iss === 'string' && claims.iss.startsWith('vendor:') && VENDOR_SLUG.test(claims.iss.slice(7)))
    && (claims.tier === 'unlimited' || (Number.isInteger(claims.tier) && claims.tier >= 1 && claims.tier <= MAX_TIER))
    && isClaimDate(claims.maint) && isClaimDate(claims.term)
    && typeof claims.eval === 'boolean'
    && (claims.lu === undefined || typeof claims.lu === 'boolean')
    && !(claims.type === 'evaluation' && !claims.eval)
    && !(claims.eval && claims.term === null)
    && Number.isInteger(claims.iat) && claims.iat >= 0 && claims.iat <= MAX_TIMESTAMP;
  if (!valid) throw new Malformed(BAD_PAYLOAD);
  return claims;
}

function hasNonIntegerNumber(text) {
  for (const [token] of text.matchAll(JSON_STRING_OR_NUMBER)) {
    if (token[0] !== '"' && /[.eE]/.test(token)) return true;
  }
  return false;
}

/** Base64url without padding, canonical only (no unused bits set in the last character). */
function b64urlDecode(text) {
  const remainder = text.length % 4;
  if (!/^[A-Za-z0-9_-]*$/.test(text) || remainder === 1) throw new TypeError('not base64url');
  if (remainder !== 0 && B64URL.indexOf(text[text.length - 1]) & (remainder === 2 ? 0b1111 : 0b11)) {
    throw new TypeError('not the canonical base64url encoding');
  }
  return Buffer.from(text, 'base64url');
}

function hostContext(host) {
  const fail = (message) => { throw new TypeError(`host: ${message}`); };
  if (!isObject(host)) fail('the host context is an object');
  const context = { host_name: 'the host', app_vendor: null, ...host };
  if (typeof context.app_key !== 'string' || context.app_key === '') fail('app_key must be a non-empty string');
  if (!HOSTINGS.has(context.hosting)) fail(`unknown hosting ${context.hosting}`);
  if (typeof context.server_id !== 'string' || stripNoise(context.server_id) === '') {
    fail('server_id must be a non-empty string');
  }
  if (context.host_tier !== null && !(Number.isInteger(context.host_tier) && context.host_tier >= 1)) {
    fail('host_tier must be a positive number of users or null (unlimited)');
  }
  if (!LICENSE_TYPES.has(context.host_license_type)) fail(`unknown host_license_type ${context.host_license_type}`);
  if (context.app_users !== null && !(Number.isInteger(context.app_users) && context.app_users >= 0)) {
    fail('app_users must be a number of users or null');
  }
  if (context.build_date !== null && !isClaimDate(context.build_date)) fail('build_date must be YYYY-MM-DD or null');
  if (context.today === null || !isClaimDate(context.today)) fail('today must be YYYY-MM-DD');
  if (typeof context.host_name !== 'string' || context.host_name === '') fail('host_name must be a non-empty string');
  if (context.app_vendor !== null && !(typeof context.app_vendor === 'string' && VENDOR_SLUG.test(context.app_vendor))) {
    fail("app_vendor must be a vendor's slug such as 'example-labs' or null");
  }
  return context;
}

function isClaimDate(value) {
  if (value === null) return true;
  if (typeof value !== 'string' || !ISO_DATE.test(value)) return false;
  const [year, month, day] = value.split('-').map(Number);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= days;
}

function isIdentifier(value) {
  return typeof value === 'string' && IDENTIFIER.test(value) && codePoints(value) <= 200;
}

function toDict(claims) {
  const fields = {
    license_id: claims.lic,
    entitlement_number: claims.sen,
    app_key: claims.app,
    hosting: claims.hosting,
    channel: claims.channel,
    issuer: claims.iss,
    license_type: claims.type,
    tier: claims.tier,
    host_binding: claims.bind,
    maintenance_end: claims.maint,
    term_end: claims.term,
    evaluation: claims.eval,
    issued_at: new Date(claims.iat * 1000).toISOString().replace('.000Z', 'Z'),
    key_serial: claims.jti,
    format_version: claims.v,
  };
  if (claims.lu === true) fields.licensed_users = true;
  return fields;
}

function verdict(status, message, action, payload = null) {
  return { status, action, message, payload };
}

function stripNoise(value) {
  const characters = Array.from(value);
  let start = 0;
  let end = characters.length;
  while (start < end && NOISE_CHARACTERS.has(characters[start])) start += 1;
  while (end > start && NOISE_CHARACTERS.has(characters[end - 1])) end -= 1;
  return characters.slice(start, end).join('');
}

const binding = (value) => stripNoise(value).toLowerCase();
const users = (count) => (count === null ? 'unlimited users' : count === 1 ? '1 user' : `${count} users`);
const typeName = (licenseType) => licenseType.replaceAll('_', ' ');
const a = (noun) => ('aeiou'.includes(noun[0]) ? 'an ' : 'a ') + noun;
const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

function codePoints(text) {
  let count = 0;
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    // A high surrogate followed by a low one is one code point, as Python counts.
    if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) index += 1;
    }
    count += 1;
  }
  return count;
}
