import { lookup as dnsLookup } from 'node:dns';
import { lookup as dnsLookupAsync } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** IPv4-compatible IPv6 addresses (::a.b.c.d, deprecated), which ipaddr.js counts as unicast. */
const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR('::/96');

/** What kind of address it is ("loopback", "private", "link local", …); "unicast" is public. */
function rangeOf(address: string): string {
  const parsed = ipaddr.process(address); // an IPv4-mapped IPv6 address is judged as its IPv4 address
  const range = parsed.range();
  if (range === 'unicast' && parsed.kind() === 'ipv6' && parsed.match(IPV4_COMPATIBLE)) return 'IPv4-compatible';
  return range.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

/** A webhook URL whose host is, or resolves to, an address outside the public internet. */
export class NonPublicAddressError extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
    readonly range: string,
  ) {
    super(`${host === address ? address : `${host} resolves to ${address}, which`} is not a public address (${range})`);
  }
}

/** The error for the first of `addresses` that is not public, or null when all are. */
function firstNonPublic(host: string, addresses: string[]): NonPublicAddressError | null {
  for (const address of addresses) {
    const range = rangeOf(address);
    if (range !== 'unicast') return new NonPublicAddressError(host, address, range);
  }
  return null;
}

/** The URL's host as an IP address, or null for a name. */
function literalAddress(url: URL): string | null {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(host) ? host : null;
}

/**
 * `dns.lookup` that refuses any non-public answer, given to the socket itself: it connects to
 * the address checked here, so a name cannot resolve to another one between check and connect.
 */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '');
    const refused = firstNonPublic(hostname, addresses.map(({ address }) => address));
    if (refused) return callback(refused, '');
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
};

/**
 * Where alert webhooks may go: public addresses only, so that an organization cannot make
 * tollgate call into the network it runs in (cloud metadata, databases, admin ports), unless
 * the deployment allows private addresses (TOLLGATE_ALERT_WEBHOOK_ALLOW_PRIVATE).
 */
export class WebhookDestinations {
  constructor(private readonly allowPrivate: boolean) {}

  /**
   * At set time: throws NonPublicAddressError when the URL's host is, or now resolves to, a
   * non-public address. A name that does not resolve yet passes; each delivery judges it again.
   */
  async check(url: URL): Promise<void> {
    if (this.allowPrivate) return;
    const literal = literalAddress(url);
    const addresses = literal ? [literal] : await dnsLookupAsync(url.hostname, { all: true }).then((answers) => answers.map(({ address }) => address), () => []);
    const refused = firstNonPublic(literal ?? url.hostname, addresses);
    if (refused) throw refused;
  }

  /**
   * At delivery: the options of `http(s).request` that let it connect to a public address only.
   * Throws NonPublicAddressError for a host that is a non-public IP address.
   */
  connectOptions(url: URL): { lookup?: LookupFunction } {
    if (this.allowPrivate) return {};
    const literal = literalAddress(url);
    const refused = literal && firstNonPublic(literal, [literal]);
    if (refused) throw refused;
    return { lookup: publicOnlyLookup };
  }
}
