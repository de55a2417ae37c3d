/* text_web.js: the Unicode text of src/text_web.c (make web's --js-library):
 * normalisation and case by the JavaScript engine, which implements the
 * algorithms libunistring does for src/text.c, at the engine's Unicode
 * version (libunistring 1.0: Unicode 14; Node 20 and current browsers:
 * 15 or later, so a few letters added since may map differently).
 * Emscripten 3.1.6's minifier takes no destructuring: none here. */
mergeInto(LibraryManager.library, {
  $drnnText: {
    /* Code points s[0 .. n) (a uint32_t array in the heap) as a string. */
    get: function(s, n) {
      let t = '';
      for (let i = 0; i < n; i++)
        t += String.fromCodePoint(HEAPU32[(s >> 2) + i]);
      return t;
    },
    /* The code points of t into out[0 .. cap): how many t has. */
    put: function(t, out, cap) {
      let n = 0;
      for (const ch of t) {
        if (n < cap)
          HEAPU32[(out >> 2) + n] = ch.codePointAt(0);
        n++;
      }
      return n;
    },
    /* Where Unicode's title case is not toUpperCase (JavaScript has no
     * title case): the digraphs DŽ, LJ, NJ, DZ (their title forms ǅ ǈ ǋ ǲ);
     * ß and the Latin and Armenian ligatures, which capitalise their first
     * letter only; Greek with ypogegrammeni, which keeps it (upper case
     * spells it as a capital iota); Georgian Mkhedruli, whose title case is
     * itself (its upper case is Mtavruli). Checked against libunistring's
     * u32_totitle for every code point (tests/cli-web.sh checks names). */
    title: null,
    titleTable: function() {
      const m = new Map([
        [0x1C4, '\u01C5'], [0x1C5, '\u01C5'], [0x1C6, '\u01C5'],
        [0x1C7, '\u01C8'], [0x1C8, '\u01C8'], [0x1C9, '\u01C8'],
        [0x1CA, '\u01CB'], [0x1CB, '\u01CB'], [0x1CC, '\u01CB'],
        [0x1F1, '\u01F2'], [0x1F2, '\u01F2'], [0x1F3, '\u01F2'],
        [0xDF, 'Ss'], [0xFB00, 'Ff'], [0xFB01, 'Fi'], [0xFB02, 'Fl'], [0xFB03, 'Ffi'],
        [0xFB04, 'Ffl'], [0xFB05, 'St'], [0xFB06, 'St'], [0x587, '\u0535\u0582'],
        [0xFB13, '\u0544\u0576'], [0xFB14, '\u0544\u0565'], [0xFB15, '\u0544\u056B'],
        [0xFB16, '\u054E\u0576'], [0xFB17, '\u0544\u056D']
      ]);
      /* Greek with ypogegrammeni: the capital with prosgegrammeni ... */
      for (let c = 0x1F80; c <= 0x1FAF; c++)
        m.set(c, String.fromCodePoint(c | 8));
      const pairs = [0x1FB3, 0x1FBC, 0x1FBC, 0x1FBC, 0x1FC3, 0x1FCC,
                     0x1FCC, 0x1FCC, 0x1FF3, 0x1FFC, 0x1FFC, 0x1FFC];
      for (let i = 0; i < pairs.length; i += 2)
        m.set(pairs[i], String.fromCodePoint(pairs[i + 1]));
      /* ... or, with an accent, the capital with the accent and U+0345. */
      for (const c of [0x1FB2, 0x1FB4, 0x1FB7, 0x1FC2, 0x1FC4, 0x1FC7, 0x1FF2, 0x1FF4, 0x1FF7])
        m.set(c, String.fromCodePoint(c).normalize('NFD').replace('\u0345', '')
                     .toUpperCase().normalize('NFC') + '\u0345');
      for (let c = 0x10D0; c <= 0x10FF; c++)
        if (c != 0x10FB && c != 0x10FC)
          m.set(c, String.fromCodePoint(c));
      return m;
    },
    /* The words of t by Unicode's word boundaries (UAX #29), as
     * libunistring's u32_totitle finds them; without Intl.Segmenter, runs of
     * letters, marks, digits and apostrophes. */
    words: function(t) {
      if (typeof Intl == 'object' && Intl.Segmenter)
        return Array.from(new Intl.Segmenter('und', {granularity: 'word'}).segment(t),
                          w => w.segment);
      return t.match(/[\p{L}\p{M}\p{N}']+|[^\p{L}\p{M}\p{N}']+/gu) || [];
    }
  },

  /* NFC, and when lower the full lowercase mapping (locale-independent,
   * final sigma by its context) and NFC again. */
  drnn_js_normalize__deps: ['$drnnText'],
  drnn_js_normalize: function(s, n, lower, out, cap) {
    let t = drnnText.get(s, n).normalize('NFC');
    if (lower)
      t = t.toLowerCase().normalize('NFC');
    return drnnText.put(t, out, cap);
  },

  /* Title case as u32_totitle: in each word, the first cased character
   * takes its title case, those before it stay, those after it are
   * lowercased (final sigma by the whole string); then NFC. */
  drnn_js_title__deps: ['$drnnText'],
  drnn_js_title: function(s, n, out, cap) {
    const T = drnnText;
    const title = T.title || (T.title = T.titleTable());
    const cased = /\p{Cased}/u, ignorable = /\p{Case_Ignorable}/u;
    const cps = Array.from(T.get(s, n));
    const sigma = function(i) {
      let j = i - 1, k = i + 1;
      while (j >= 0 && ignorable.test(cps[j])) j--;
      while (k < cps.length && ignorable.test(cps[k])) k++;
      const final = j >= 0 && cased.test(cps[j]) && !(k < cps.length && cased.test(cps[k]));
      return final ? '\u03C2' : '\u03C3';
    };
    let r = '', at = 0;
    for (const w of T.words(cps.join(''))) {
      let first = true;
      for (const ch of w) {
        const c = ch.codePointAt(0);
        if (first && cased.test(ch)) {
          r += title.has(c) ? title.get(c) : ch.toUpperCase();
          first = false;
        } else if (!first) {
          r += c == 0x3A3 ? sigma(at) : ch.toLowerCase();
        } else {
          r += ch;
        }
        at++;
      }
    }
    return T.put(r.normalize('NFC'), out, cap);
  }
});
