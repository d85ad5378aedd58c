/**
 * Known answers for the pieces the audit's rules stand on: what is an IPv4
 * token, which setting names hold addresses, how a value is judged in a
 * command line, an environment variable or a configuration file, and the
 * nginx, haproxy and CoreDNS readers.
 */
import { describe, expect, it } from 'vitest';
import { classifyName, classifyToken, hostFamilyOf } from '../src/audit/ipv4.js';
import { corefileHits } from '../src/audit/rules/corefile.js';
import { haproxyHits } from '../src/audit/rules/haproxy.js';
import { nginxHits } from '../src/audit/rules/nginx.js';
import { judge, scanText, scanWords } from '../src/audit/rules/words.js';

describe('classifyToken', () => {
  it.each([
    ['0.0.0.0', 'wildcard', false],
    ['0.0.0.0:8080', 'wildcard', true],
    ['tcp://0.0.0.0:53', 'wildcard', true],
    ['10.0.0.5', 'address', false],
    ['"10.0.0.5",', 'address', false],
    ['10.0.0.5:5432', 'address', true],
    ['https://user:p@ss@10.0.0.5:2379/health', 'address', true],
    ['http://10.0.0.5', 'address', true],
    ['127.0.0.1:8080', 'loopback', true],
    ['10.0.0.0/8', 'cidr', false],
    ['0.0.0.0/0', 'cidr', false],
    ['127.0.0.0/8', 'loopback', false],
  ])('%s is %s', (token, form, endpoint) => {
    expect(classifyToken(token)).toMatchObject({ form, endpoint });
  });

  it.each([
    '1.2.3', // a version
    '1.2.3.4.5', // a longer version
    '1.3.6.1.4.1.311.21.8', // an OID
    '256.1.1.1',
    '01.02.03.04', // leading zeros
    '::ffff:192.0.2.1', // IPv4-mapped IPv6
    '2001:db8::1',
    '[::]:80',
    '10.0.0.5:99999',
    '10.0.0.0/33',
    'registry.example.com:5000',
    '10.0.0.1.nip.io',
    'v1.2.3.4',
    '',
  ])('%s is not an IPv4 token', (token) => {
    expect(classifyToken(token)).toBeUndefined();
  });
});

describe('setting names', () => {
  it.each([
    ['--bind-address', true, true, false],
    ['metricsBindAddress', true, true, false],
    ['LISTEN_ADDR', true, true, false],
    ['DB_HOST', true, false, false],
    ['upstreamURL', true, false, false],
    ['proxy_pass', true, false, false],
    ['nameserver', true, false, false],
    ['APP_VERSION', false, false, true],
    ['serverVersion', true, false, true],
    ['description', false, false, true],
    ['replicas', false, false, false],
    ['hostname', false, false, false],
  ])('%s: address %s, bind %s, veto %s', (name, address, bind, veto) => {
    expect(classifyName(name)).toEqual({ address, bind, veto });
  });
});

describe('judging values', () => {
  it('0.0.0.0 is a bind on a command line and in the environment whatever the name; in a file only where the name or a port says so', () => {
    expect(judge('b', '0.0.0.0', 'args').map((h) => h.code)).toEqual(['IPV4_WILDCARD_BIND']);
    expect(judge('FOO', '0.0.0.0', 'env').map((h) => h.code)).toEqual(['IPV4_WILDCARD_BIND']);
    expect(judge('mask', '0.0.0.0', 'text')).toEqual([]);
    expect(judge('listen', '0.0.0.0', 'text').map((h) => h.code)).toEqual(['IPV4_WILDCARD_BIND']);
    expect(judge(null, '0.0.0.0:80', 'text').map((h) => h.code)).toEqual(['IPV4_WILDCARD_BIND']);
    expect(judge('version', '0.0.0.0', 'args')).toEqual([]);
  });

  it('a literal needs an address name or a port; loopback never counts; lists are split', () => {
    expect(judge('release', '10.0.0.1', 'env')).toEqual([]);
    expect(judge('DB_HOST', '10.0.0.1', 'env').map((h) => [h.code, h.bind])).toEqual([['IPV4_LITERAL_ADDRESS', false]]);
    expect(judge('advertise-address', '10.0.0.1', 'args').map((h) => [h.code, h.bind])).toEqual([['IPV4_LITERAL_ADDRESS', true]]);
    expect(judge(null, '10.0.0.1', 'args')).toEqual([]);
    expect(judge(null, '10.0.0.1:80', 'args').map((h) => h.code)).toEqual(['IPV4_LITERAL_ADDRESS']);
    expect(judge('bind', '127.0.0.1', 'text')).toEqual([]);
    expect(judge('listen-client-urls', 'https://127.0.0.1:2379,https://10.0.0.5:2379', 'args').map((h) => h.token?.address)).toEqual(['10.0.0.5']);
  });

  it('command-line words: --flag=value, --flag value, KEY=value, socat options, Java options', () => {
    const words = ['--host', '0.0.0.0', '--port', '80', 'TCP-LISTEN:80,bind=0.0.0.0,fork', 'HOST=10.1.1.1', '-Djava.net.preferIPv4Stack=true', '--version', '10.0.0.1:1'].map((text, ref) => ({ text, ref }));
    expect(scanWords(words, 'args').map((h) => [h.code, h.ref])).toEqual([
      ['IPV4_WILDCARD_BIND', 1],
      ['IPV4_WILDCARD_BIND', 4],
      ['IPV4_LITERAL_ADDRESS', 5],
      ['JAVA_PREFER_IPV4_STACK', 6],
    ]);
  });

  it('configuration lines: key forms, YAML lists under their key, comments dropped', () => {
    const text = [
      'bind 0.0.0.0', // 1 redis
      'listen_addresses = \'0.0.0.0\'', // 2 postgres
      '"upstream": "10.0.0.7:8080",', // 3 JSON
      '# bind 0.0.0.0', // 4 comment
      'server.host: 10.0.0.8 # old', // 5
      'nameservers:', // 6
      '  - 10.0.0.9', // 7
      'version: 10.0.0.10', // 8
      'allow 10.0.0.0/8;', // 9
    ].join('\n');
    expect(scanText(text).map((h) => [h.code, h.ref])).toEqual([
      ['IPV4_WILDCARD_BIND', 1],
      ['IPV4_WILDCARD_BIND', 2],
      ['IPV4_LITERAL_ADDRESS', 3],
      ['IPV4_LITERAL_ADDRESS', 5],
      ['IPV4_LITERAL_ADDRESS', 7],
      ['IPV4_CIDR', 9],
    ]);
  });

  it.each([
    ['[::]:10256', 6],
    ['0.0.0.0:10256', 4],
    [':10256', undefined],
    ['https://[2001:db8::1]:6443', 6],
    ['10.0.0.100:6443', 4],
    ['kubernetes.default:443', undefined],
  ])('hostFamilyOf(%s) = %s', (v, family) => {
    expect(hostFamilyOf(v)?.family).toBe(family);
  });
});

describe('nginx, haproxy, CoreDNS', () => {
  it('nginx: per server block and port; IPv6 on the same port clears it; unix and loopback listens do not count', () => {
    const conf = `http {
  server { listen 80; listen [::]:80; listen 443 ssl; server_name a; }
  server { listen unix:/run/x.sock; listen 127.0.0.1:8080; server_name b; }
  server { listen 10.0.0.1:8081; listen 8081 ; listen [::]:8082; server_name c; }
  server { server_name d; location / { return 200; } }
  upstream up { server 10.0.0.2:80; }
}`;
    expect(nginxHits(conf).map((h) => [h.line, h.said.slice(0, 30)])).toEqual([
      [2, 'nginx "listen 443 ssl;" binds '],
      [4, 'nginx "listen 10.0.0.1:8081;" '],
      [5, 'nginx server block has no list'],
    ]);
    expect(nginxHits('server { enabled = true }')).toEqual([]); // not nginx (HCL)
  });

  it('haproxy: *, empty and 0.0.0.0 are IPv4; :::port and ipv6@ are IPv6', () => {
    const cfg = 'frontend a\n    bind *:80\n    bind :::80 v4v6\nfrontend b\n    bind :81,ipv4@:82\n    bind ipv6@:82\nlisten c\n    bind 0.0.0.0:83\n';
    expect(haproxyHits(cfg).map((h) => h.line)).toEqual([5, 8]);
  });

  it('CoreDNS: blocker when all upstreams are IPv4, warning when an IPv6 upstream or resolv.conf remains', () => {
    const cf = '.:53 {\n  forward . tls://1.1.1.1 dns://8.8.8.8:53\n}\na.example:53 {\n  forward . 10.0.0.53 [2001:db8::53]:53\n}\nb.example:53 {\n  forward . /etc/resolv.conf 10.0.0.54\n}\nc.example:53 {\n  forward . 127.0.0.1:5353\n}\n';
    expect(corefileHits('Corefile', cf).map((h) => [h.line, h.severity])).toEqual([
      [2, 'blocker'],
      [5, 'warning'],
      [8, 'warning'],
    ]);
  });
});
