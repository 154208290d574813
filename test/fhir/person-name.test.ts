import { describe, expect, test } from 'vitest';
import { EN_REPRESENTATION_URL, personNameDisplay, toHumanNames } from '../../src/fhir/person-name.js';

const rep = (code: string) => [{ url: EN_REPRESENTATION_URL, valueCode: code }];

describe('PN → HumanName', () => {
  test.each([
    [
      'alphabetic only: no extension, given + middle, prefix, suffix',
      { alphabetic: 'Adams^John Robert^Quincy^Rev.^B.A. M.Div.' },
      [{ text: 'Rev. John Robert Quincy Adams B.A. M.Div.', family: 'Adams', given: ['John Robert', 'Quincy'], prefix: ['Rev.'], suffix: ['B.A. M.Div.'] }],
    ],
    [
      'three ISO 2022 groups: main alphabetic, then IDE and SYL',
      { alphabetic: 'Yamada^Tarou', ideographic: '山田^太郎', phonetic: 'やまだ^たろう' },
      [
        { extension: rep('ABC'), text: 'Tarou Yamada', family: 'Yamada', given: ['Tarou'] },
        { extension: rep('IDE'), text: '山田 太郎', family: '山田', given: ['太郎'] },
        { extension: rep('SYL'), text: 'やまだ たろう', family: 'やまだ', given: ['たろう'] },
      ],
    ],
    [
      'empty alphabetic group: ideographic is the main name',
      { alphabetic: '', ideographic: '洪^吉洞', phonetic: '홍^길동' },
      [
        { extension: rep('IDE'), text: '洪 吉洞', family: '洪', given: ['吉洞'] },
        { extension: rep('SYL'), text: '홍 길동', family: '홍', given: ['길동'] },
      ],
    ],
    ['family only', { alphabetic: 'DOE' }, [{ text: 'DOE', family: 'DOE' }]],
    ['given only (empty family component)', { alphabetic: '^Cher' }, [{ text: 'Cher', given: ['Cher'] }]],
    ['carets only is empty', { alphabetic: '^^^^' }, []],
    ['absent', undefined, []],
  ])('%s', (_name, pn, expected) => {
    expect(toHumanNames(pn)).toStrictEqual(expected);
  });

  test.each([
    [{ alphabetic: 'Suzuki^Hanako^^Dr' }, 'Dr Hanako Suzuki'],
    [{ alphabetic: 'Yamada^Tarou', ideographic: '山田^太郎' }, 'Tarou Yamada'],
    [{ ideographic: '山田^太郎' }, '山田 太郎'],
    [{ alphabetic: '  Doe ^ Jane ' }, 'Jane Doe'],
    // issue 19 item 10: HumanName.text convention (prefix given middle family suffix), not DICOM order.
    [{ alphabetic: 'Müller^Jürgen^Karl^Dr.^MD' }, 'Dr. Jürgen Karl Müller MD'],
    [{}, undefined],
  ])('display of %j is %j', (pn, expected) => {
    expect(personNameDisplay(pn)).toBe(expected);
  });
});
