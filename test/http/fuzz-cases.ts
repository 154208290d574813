/**
 * Malformed HTTP requests for the bridge's listener, generated from a seed
 * (the same seed gives the same requests, byte for byte): request lines,
 * request targets (bad percent-encoding, dot segments, raw bytes, absolute
 * and asterisk forms), FHIR search queries (every parameter, modifier and
 * value form, beyond the search limits too), /studies queries, absurd
 * headers, and bodies (lengths that lie, broken chunking), against every
 * route: /healthz, /readyz, /metrics, /status, /studies, /studies/{uid},
 * the republish POSTs, /fhir/metadata, reads and searches under /fhir.
 *
 * Each case says what a correct server does with it:
 * - `4xx`: the request is wrong; the answer is 400..499;
 * - `answer`: any answer below 500 (some mutations stay valid requests);
 * - `maybe-none`: HTTP allows closing without an answer (no request line at all).
 */

export interface FuzzContext {
  studyUid: string;
  sopInstanceUid: string;
  patient: { system: string; value: string };
  /** Logical id of the study's Patient on the built-in endpoint. */
  patientResourceId: string;
  adminToken: string;
  fhirToken: string;
}

export type FuzzExpectation = '4xx' | 'answer' | 'maybe-none';

export interface FuzzCase {
  id: number;
  /** The generator that made it. */
  kind: string;
  request: Buffer;
  expect: FuzzExpectation;
  /** The request never completes (the server waits for more): the client half-closes to end it. */
  incomplete?: boolean;
}

/** mulberry32: a small seeded PRNG, enough for reproducible fuzzing. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(private readonly random: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)]!;
  }
  bytes(n: number, from = 0, to = 255): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(from, to);
    return b;
  }
  /** A string of n characters from `alphabet`. */
  text(n: number, alphabet: string): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(0, alphabet.length - 1)];
    return s;
  }
}

const CRLF = '\r\n';
const METHODS = ['GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE'] as const;
const BAD_ESCAPES = ['%', '%z', '%zz', '%g0', '%C0%AF', '%ED%A0%80', '%FF', '%E2%82', '%F0%9F%98', '%%', '%C3%28', '%80'];
const SEARCH_PARAMS = [
  '_id', 'accession', 'basedon', 'order', 'bodysite', 'dicom-class', 'endpoint', 'identifier', 'instance', 'modality', 'patient',
  'reason', 'series', 'started', 'status', 'study', 'subject', 'uid', 'patient.identifier', 'subject.identifier',
  'patient:identifier', 'subject:identifier', 'patient:Patient', 'basedon:identifier', 'endpoint:Endpoint',
];
const RESULT_PARAMS = ['_count', '_offset', '_sort', '_summary', '_elements', '_format', '_pretty'];
const ODD_PARAMS = ['', 'foo', '_include', '_revinclude', 'patient.name', 'modality:text', 'a.b.c', '::', 'patient.identifier.value', 'started:missing', '%', '=', '_id:', ':identifier', '.identifier', 'patient..identifier', '\u00e9', '__proto__', 'constructor'];

/** A request: method, target, header lines (as sent), body. */
function build(method: string, target: string, headers: string[], body?: Buffer, lineEnd = CRLF): Buffer {
  const head = `${method} ${target} HTTP/1.1${lineEnd}${headers.map((h) => h + lineEnd).join('')}${lineEnd}`;
  return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

export function fuzzCases(seed: number, count: number, ctx: FuzzContext): FuzzCase[] {
  const g = new Gen(prng(seed));
  const q = encodeURIComponent;

  const studyPaths = (): string[] => [
    '/studies',
    `/studies/${ctx.studyUid}`,
    `/studies/${ctx.studyUid}/republish`,
    '/studies/republish?state=failed',
    '/studies/1.2.3.4/republish',
  ];
  const fhirPaths = (): string[] => [
    '/fhir/metadata',
    `/fhir/ImagingStudy/${ctx.studyUid}`,
    `/fhir/Patient/${ctx.patientResourceId}`,
    '/fhir/Endpoint/x',
    '/fhir/ImagingStudy',
    `/fhir/ImagingStudy?patient.identifier=${q(`${ctx.patient.system}|${ctx.patient.value}`)}`,
    `/fhir/ImagingStudy?instance=${ctx.sopInstanceUid}&_count=1`,
    '/fhir/Patient?name=x',
    '/fhir',
    '/fhir/',
  ];
  const routes = (): string[] => ['/healthz', '/readyz', '/metrics', '/status', ...studyPaths(), ...fhirPaths(), '/', '/nope', '/fhirx', '/studiesx'];

  const auth = (): string[] => {
    const r = g.int(0, 99);
    if (r < 50) return [`Authorization: Bearer ${ctx.adminToken}`];
    if (r < 65) return [`Authorization: Bearer ${ctx.fhirToken}`];
    if (r < 80) return [];
    return [
      g.pick([
        'Authorization: Bearer',
        'Authorization: Bearer ',
        `Authorization: bearer ${ctx.adminToken}`,
        `Authorization: Bearer  ${ctx.adminToken}  `,
        'Authorization: Basic YWRtaW46YWRtaW4=',
        `Authorization: Bearer ${ctx.adminToken}x`,
        `Authorization: Bearer ${'A'.repeat(g.int(100, 8000))}`,
        'Authorization: Bearer \u00ff\u00fe',
        'Authorization: Negotiate',
        `Authorization: Bearer ${ctx.adminToken}, Bearer ${ctx.fhirToken}`,
      ]),
    ];
  };
  const base = (): string[] => ['Host: localhost', ...auth(), ...(g.chance(0.1) ? ['Prefer: handling=lenient'] : []), ...(g.chance(0.3) ? ['Connection: close'] : [])];

  const badEscapeIn = (segment: string): string => {
    const at = g.int(0, segment.length);
    return segment.slice(0, at) + g.pick(BAD_ESCAPES) + segment.slice(at);
  };

  // ---- values of FHIR searches ------------------------------------------------
  const tokenValue = (): string =>
    g.pick([
      () => 'CT',
      () => `${ctx.patient.system}|${ctx.patient.value}`,
      () => `|${ctx.patient.value}`,
      () => `${ctx.patient.system}|`,
      () => `urn:oid:${ctx.studyUid}`,
      () => ctx.sopInstanceUid,
      () => 'a\\,b\\|c\\$d\\\\',
      () => '\\',
      () => '|',
      () => '||||',
      () => `http://dicom.nema.org/resources/ontology/DCM|${g.pick(['CT', 'MR', ''])}`,
      () => g.text(g.int(1, 40), 'abcXYZ019|\\,$:/.-_~'),
      () => g.text(g.int(1, 3000), 'a'),
      () => '\u00e9\u4e2d\ud83d\ude00',
      () => `Patient/${ctx.patientResourceId}`,
      () => `http://elsewhere/fhir/Patient/${ctx.patientResourceId}`,
      () => 'Patient/',
      () => '/',
      () => 'ServiceRequest/x/_history/1',
    ])();
  const dateValue = (): string =>
    `${g.pick(['', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'sa', 'eb', 'ap', 'xx', 'GE'])}${g.pick([
      '2024',
      '2024-07',
      '2024-07-05',
      '2024-02-30',
      '2024-13-01',
      '2024-07-05T14:30:00Z',
      '2024-07-05T14:30:00+09:00',
      '2024-07-05T25:61:61',
      '2024-07-05T14:30+99:99',
      '2024-07-05T14:30:00.123456789Z',
      '99999-01-01',
      '-271821-04-20',
      '275760-09-13',
      '0000',
      '',
      'T',
      'now',
      '1e9',
    ])}`;
  const valueFor = (param: string): string => {
    if (param === 'started') return dateValue();
    if (param === '_count' || param === '_offset') return g.pick(['0', '1', '50', '1000', '1001', '-1', '1e3', '99999999999999999999', '999999999999999', 'ten', ' 5', '0x10']);
    if (param === '_sort') return g.pick(['started', '-started', '_id', '-_id', 'started,_id', ',', '-', '--started', 'description']);
    if (param === '_summary') return g.pick(['count', 'false', 'true', 'text', 'data', '']);
    if (param === '_elements') return g.pick(['id', 'id,status', 'series,,', '1bad', 'a.b', ' ', 'x'.repeat(500)]);
    return tokenValue();
  };
  /** name=value (OR-ed values), URL-encoded or raw. */
  const parameter = (): string => {
    const name = g.chance(0.85) ? g.pick([...SEARCH_PARAMS, ...RESULT_PARAMS]) : g.pick(ODD_PARAMS);
    const n = g.chance(0.08) ? g.int(90, 160) : g.int(0, 4);
    const values = Array.from({ length: n }, () => valueFor(name));
    const encode = g.chance(0.85);
    const value = encode ? values.map(q).join(',') : values.join(',').replace(/[ #\r\n]/g, '+');
    const pair = g.chance(0.05) ? name : `${encode ? q(name).replace(/%3A/gi, ':') : name}=${value}`;
    return g.chance(0.05) ? badEscapeIn(pair) : pair;
  };
  const fhirSearch = (): string => {
    const n = g.chance(0.08) ? g.int(8, 30) : g.int(0, 5);
    const params = Array.from({ length: n }, parameter);
    return `/fhir/${g.pick(['ImagingStudy', 'ImagingStudy', 'ImagingStudy', 'Patient', 'Endpoint', 'Basic', 'imagingstudy'])}?${params.join(g.pick(['&', '&', '&&', ';']))}`;
  };
  const studiesQuery = (): string =>
    `/studies?${g.pick(['state', 'limit', 'x', ''])}=${g.pick(['pending', 'failed', 'published', 'bogus', '', '0', '1', '10000', '10001', '-5', '1.5', 'NaN', '1e3', '%zz', '\u00e9'])}&${g.pick(['limit', 'state'])}=${g.pick(['1', '100', 'all', ''])}`;

  // ---- generators ---------------------------------------------------------------
  type Made = { kind: string; request: Buffer; expect: FuzzExpectation; incomplete?: boolean };
  const generators: Array<[number, () => Made]> = [
    // Every route and method, well formed.
    [12, () => ({ kind: 'route', request: build(g.pick(METHODS), g.pick(routes()), base()), expect: 'answer' })],
    // A path segment with a bad percent-encoding: never a valid resource.
    [
      12,
      () => {
        const path = g.pick(routes()).split('?')[0]!;
        const segments = path.split('/');
        const at = g.int(1, segments.length - 1);
        segments[at] = badEscapeIn(segments[at]!);
        return { kind: 'path-encoding', request: build(g.pick(['GET', 'GET', 'HEAD', 'POST']), segments.join('/'), base()), expect: '4xx' };
      },
    ],
    // Path shapes: dot segments, doubled and back slashes, raw bytes, long segments, fragments, matrix params.
    [
      10,
      () => {
        const path = g.pick(routes());
        const shapes = [
          () => path.replace('/', '//'),
          () => `/.${path}`,
          () => `/x/..${path}`,
          () => `/%2e%2e${path}`,
          () => path.replace(/\//g, '\\'),
          () => `/\\${path}`,
          () => `${path}${g.pick(['/', '/.', '/..', '#frag', ';a=b', '?', '??', '&', '%00', '%2F', '%252F'])}`,
          () => `${path}/${'a'.repeat(g.int(100, 9000))}`,
          () => path.replace(/[a-z]/, (c) => c.toUpperCase()),
          () => path + '\u00e9',
          () => `/fhir/ImagingStudy/${'1.'.repeat(g.int(30, 200))}1`,
          () => `/studies/${g.pick(['..%2F..%2Fetc%2Fpasswd', '1.2.3%204', '%00', '%0d%0aSet-Cookie:%20x', '%E2%80%AE'])}`,
        ];
        const target = g.pick(shapes)();
        // Raw non-ASCII bytes in the request line (latin1 keeps each as one byte).
        const bytes = Buffer.from(build(g.pick(['GET', 'HEAD']), target, base()).toString('latin1').replace(/\u00e9/g, '\u00c3\u00a9'), 'latin1');
        return { kind: 'path-shape', request: bytes, expect: 'answer' };
      },
    ],
    // Other target forms.
    [
      5,
      () => {
        const forms: Array<[string, FuzzExpectation]> = [
          ['http://localhost/healthz', 'answer'],
          ['http://evil.example/fhir/metadata', 'answer'],
          ['https://localhost:1/status', 'answer'],
          ['http://user:pw@localhost/studies', 'answer'],
          ['http://[', '4xx'],
          ['http://a:99999/fhir', '4xx'],
          ['http://[::1/studies', '4xx'],
          ['*', 'answer'],
          ['localhost:8080', 'answer'],
          ['healthz', 'answer'],
          ['fhir/metadata', 'answer'],
          ['//', 'answer'],
          ['///fhir', 'answer'],
          ['/fhir/../studies', 'answer'],
          ['?', 'answer'],
          ['/?%', 'answer'],
          ['file:///etc/passwd', 'answer'],
          ['javascript:alert(1)', 'answer'],
        ];
        const [target, expect] = g.pick(forms);
        return { kind: 'target-form', request: build(g.pick(['GET', 'OPTIONS', 'POST', 'CONNECT']), target, base()), expect };
      },
    ],
    // FHIR searches of every kind (within and beyond the limits).
    [20, () => ({ kind: 'fhir-search', request: build(g.pick(['GET', 'GET', 'GET', 'HEAD', 'POST']), fhirSearch(), base()), expect: 'answer' })],
    // Beyond the search limits: always refused.
    [
      4,
      () => {
        const which = g.int(0, 2);
        const list = (n: number) => Array.from({ length: n }, (_, i) => `V${i}`).join(',');
        const query =
          which === 0
            ? `modality=${list(g.int(101, 700))}`
            : which === 1
              ? Array.from({ length: g.int(11, 400) }, () => 'status=available').join('&')
              : `${g.pick(['patient.identifier', 'subject:identifier', 'patient:identifier'])}=${list(g.int(21, 300))}`;
        const token = [`Authorization: Bearer ${g.chance(0.5) ? ctx.adminToken : ctx.fhirToken}`];
        return { kind: 'search-limits', request: build('GET', `/fhir/ImagingStudy?${query}`, ['Host: localhost', ...token]), expect: '4xx' };
      },
    ],
    [6, () => ({ kind: 'studies-query', request: build(g.pick(['GET', 'HEAD', 'POST']), studiesQuery(), base()), expect: 'answer' })],
    // Absurd headers.
    [
      12,
      () => {
        const extra = g.pick<() => string[]>([
          () => [`X-Long: ${'v'.repeat(g.int(1000, 15000))}`],
          () => Array.from({ length: g.int(100, 3000) }, (_, i) => `X-H${i}: ${i}`),
          () => ['Host: a', 'Host: b'],
          () => ['Host:'],
          () => [`Host: ${'h'.repeat(g.int(300, 5000))}`],
          () => ['Host: "quoted"<>\\'],
          () => ['Bad Header: x'],
          () => ['NoColon'],
          () => [': empty-name'],
          () => ['X-Fold: a', ' folded continuation'],
          () => ['X-Nul: a\u0000b'],
          () => ['X-Cr: a\rb'],
          () => ['X-Latin: \u00ff\u00fe\u0080'],
          () => ['Content-Length: -1'],
          () => ['Content-Length: abc'],
          () => ['Content-Length: 1', 'Content-Length: 2'],
          () => ['Content-Length: 99999999999999999999'],
          () => ['Transfer-Encoding: chunked', 'Content-Length: 3'],
          () => ['Transfer-Encoding: gzip'],
          () => ['Transfer-Encoding: chunked, identity'],
          () => ['Expect: 100-continue'],
          () => ['Expect: nonsense'],
          () => ['Connection: Upgrade', 'Upgrade: websocket'],
          () => ['Connection: keep-alive, close, x'],
          () => [`Prefer: ${g.pick(['handling=lenient', 'handling="lenient"', 'handling', '=', ';;;', 'x'.repeat(4000)])}`],
          () => [`Accept: ${g.pick(['application/fhir+xml', 'text/html', '*/*;q=abc', ''])}`],
          () => [`Cookie: ${'c=1; '.repeat(g.int(10, 1000))}`],
          () => [`${g.text(g.int(1, 40), 'abc-_~!#$%&*+.^`|')}: ${g.text(g.int(0, 40), 'xyz ')}`],
        ]);
        const headers = g.chance(0.2) ? ['Host: localhost', ...extra(), ...auth()] : [...base(), ...extra()];
        return { kind: 'headers', request: build(g.pick(['GET', 'HEAD', 'POST']), g.pick(routes()), headers), expect: 'answer' };
      },
    ],
    // Bodies: random bytes, lengths that lie, chunking right and wrong.
    [
      12,
      () => {
        const body = g.chance(0.5) ? g.bytes(g.int(0, 2000)) : Buffer.from(g.pick(['{}', '{"resourceType":"Bundle"}', '[', 'null', '\u0000'.repeat(10), 'a=b&c=d']), 'latin1');
        const method = g.pick(['POST', 'POST', 'PUT', 'PATCH', 'DELETE', 'GET']);
        const route = g.pick(routes());
        const shape = g.int(0, 5);
        let headers: string[];
        let payload: Buffer;
        if (shape === 0) [headers, payload] = [[`Content-Length: ${body.length}`], body];
        else if (shape === 1) [headers, payload] = [[`Content-Length: ${body.length + g.int(1, 500)}`], body]; // says more than it sends
        else if (shape === 2) [headers, payload] = [[`Content-Length: ${Math.max(0, body.length - g.int(1, 50))}`], body]; // the rest looks like a next request
        else if (shape === 3) [headers, payload] = [['Transfer-Encoding: chunked'], Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')])];
        else if (shape === 4) [headers, payload] = [['Transfer-Encoding: chunked'], Buffer.concat([Buffer.from(g.pick(['zz\r\n', 'fffffffffffffffff\r\n', '5\r\nab\r\n', '-1\r\n', '0\r\nX: y\r\n'])), body])];
        else [headers, payload] = [['Content-Type: application/fhir+json', `Content-Length: ${body.length}`], body];
        return { kind: 'body', request: build(method, route, [...base(), ...headers], payload), expect: 'answer' };
      },
    ],
    // Request lines that are not HTTP/1.1.
    [
      7,
      () => {
        const route = g.pick(routes());
        const lines: Array<[string | Buffer, FuzzExpectation, boolean?]> = [
          [`GET ${route}\r\n\r\n`, 'answer'],
          [`GET ${route} HTTP/1.0\r\n\r\n`, 'answer'],
          [`GET ${route} HTTP/2.0\r\nHost: x\r\n\r\n`, 'answer'],
          [`GET ${route} HTTP/9.9\r\nHost: x\r\n\r\n`, 'answer'],
          [`GET ${route} HTTP/1.1 extra\r\nHost: x\r\n\r\n`, 'answer'],
          [`GET  ${route}  HTTP/1.1\r\nHost: x\r\n\r\n`, 'answer'],
          [`get ${route} HTTP/1.1\r\nHost: x\r\n\r\n`, 'answer'],
          [`${'G'.repeat(g.int(10, 5000))} ${route} HTTP/1.1\r\nHost: x\r\n\r\n`, 'answer'],
          [`GET ${route} HTTP/1.1\nHost: x\n\n`, 'answer'],
          [`GET ${route} HTTP/1.1\rHost: x\r\r`, 'answer'],
          ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'answer'],
          [`\r\n\r\nGET ${route} HTTP/1.1\r\nHost: x\r\n\r\n`, 'answer'],
          [`GET ${route} HTTP/1.1\r\nHost: x`, 'answer', true], // never finished
          [`GET ${route.slice(0, g.int(1, route.length))}`, 'answer', true],
          [g.bytes(g.int(1, 3000)), 'answer', true],
          [g.bytes(g.int(1, 200), 0x20, 0x7e), 'answer', true],
          ['\r\n', 'maybe-none', true],
          ['', 'maybe-none', true],
        ];
        const [line, expect, incomplete] = g.pick(lines);
        return { kind: 'request-line', request: typeof line === 'string' ? Buffer.from(line, 'latin1') : line, expect, ...(incomplete ? { incomplete } : {}) };
      },
    ],
  ];
  const total = generators.reduce((n, [w]) => n + w, 0);
  const cases: FuzzCase[] = [];
  for (let id = 0; id < count; id++) {
    let r = g.int(0, total - 1);
    const [, make] = generators.find(([w]) => (r -= w) < 0)!;
    cases.push({ id, ...make() });
  }
  return cases;
}
