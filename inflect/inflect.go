// Package inflect turns English words between singular and plural and
// between the naming cases payloads use (dasherized, underscored,
// camelized). recstore's serializers use it to map payload keys such as
// "github-handles" or "people" to model types.
//
// Rules hold the word lists; English returns a fresh set of the usual
// English rules, which an application may extend with its own irregular
// and uncountable words. The case functions are pure.
package inflect

import (
	"maps"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// maxCached bounds each of a Rules' caches, so that a stream of distinct
// hostile words cannot grow memory without limit.
const maxCached = 4096

// maxCachedLen bounds the words the caches keep: no model name is longer,
// and a payload's megabyte-long keys would otherwise stay in memory.
const maxCachedLen = 128

// Rules inflect English words. Its methods are safe for concurrent use,
// including adding words while others inflect. The zero value has no
// rules at all (every word is its own plural); use English.
type Rules struct {
	mu          sync.RWMutex
	plurals     []rule // first match wins; shared, never modified
	singulars   []rule // first match wins; shared, never modified
	toPlural    map[string]string
	toSingular  map[string]string
	uncountable map[string]bool
	pluralCache map[string]string
	singleCache map[string]string
}

// English returns a new set of English inflection rules: the regular
// suffix rules, common irregular words (person/people, child/children,
// ...) and uncountable ones (sheep, news, ...). Each call returns an
// independent copy.
func English() *Rules {
	r := &Rules{plurals: englishPlurals, singulars: englishSingulars}
	for _, w := range englishIrregular {
		r.Irregular(w[0], w[1])
	}
	r.Uncountable(englishUncountable...)
	return r
}

// Clone returns an independent copy of r, words added so far included:
// words added to either one later do not reach the other. A nil r gives
// nil.
func (r *Rules) Clone() *Rules {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return &Rules{
		plurals:     r.plurals,
		singulars:   r.singulars,
		toPlural:    maps.Clone(r.toPlural),
		toSingular:  maps.Clone(r.toSingular),
		uncountable: maps.Clone(r.uncountable),
	}
}

// Irregular declares a word whose plural follows no rule, such as
// "person" and "people". Both are taken in lower case.
func (r *Rules) Irregular(singular, plural string) {
	singular, plural = strings.ToLower(singular), strings.ToLower(plural)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.toPlural == nil {
		r.toPlural, r.toSingular = map[string]string{}, map[string]string{}
	}
	r.toPlural[singular] = plural
	r.toSingular[plural] = singular
	// A word that is already plural stays so, and likewise singular.
	r.toPlural[plural] = plural
	r.toSingular[singular] = singular
	r.pluralCache, r.singleCache = nil, nil
}

// Uncountable declares words that are their own plural, such as "sheep".
func (r *Rules) Uncountable(words ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.uncountable == nil {
		r.uncountable = map[string]bool{}
	}
	for _, w := range words {
		r.uncountable[strings.ToLower(w)] = true
	}
	r.pluralCache, r.singleCache = nil, nil
}

// Plural returns the plural of word. In a compound word only the last
// part is inflected ("github-handle" → "github-handles", "blogPost" →
// "blogPosts"); its case is kept.
func (r *Rules) Plural(word string) string {
	return r.inflect(word, true)
}

// Singular returns the singular of word, under the same rules as Plural:
// "people" → "person", "github-handles" → "github-handle".
func (r *Rules) Singular(word string) string {
	return r.inflect(word, false)
}

func (r *Rules) inflect(word string, plural bool) string {
	if word == "" {
		return ""
	}
	r.mu.RLock()
	cache := r.singleCache
	if plural {
		cache = r.pluralCache
	}
	if v, ok := cache[word]; ok {
		r.mu.RUnlock()
		return v
	}
	head, tail := splitLast(word)
	out := head + r.inflectWord(tail, plural)
	r.mu.RUnlock()
	if len(word) > maxCachedLen {
		return out
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	p := &r.singleCache
	if plural {
		p = &r.pluralCache
	}
	if *p == nil {
		*p = map[string]string{}
	}
	if len(*p) < maxCached {
		(*p)[word] = out
	}
	return out
}

// inflectWord inflects one word; r.mu is held for reading.
func (r *Rules) inflectWord(w string, plural bool) string {
	if w == "" {
		return w
	}
	lower := strings.ToLower(w)
	if r.uncountable[lower] {
		return w
	}
	table, rules := r.toSingular, r.singulars
	if plural {
		table, rules = r.toPlural, r.plurals
	}
	if v, ok := table[lower]; ok {
		return matchCase(w, v)
	}
	for i := range rules {
		if ru := &rules[i]; ru.matches(w) {
			add := ru.add
			if add != "" && isUpperWord(w) {
				add = strings.ToUpper(add)
			}
			return w[:len(w)-ru.cut] + add
		}
	}
	return w
}

func (ru *rule) matches(w string) bool {
	for _, end := range ru.ends {
		if !hasSuffixFold(w, end) || ru.whole && len(w) != len(end) {
			continue
		}
		if ru.cond == nil || ru.cond(w[:len(w)-len(end)]) {
			return true
		}
	}
	return false
}

// hasSuffixFold reports whether s ends with the lower-case ASCII suffix,
// in any ASCII case.
func hasSuffixFold(s, suffix string) bool {
	if len(s) < len(suffix) {
		return false
	}
	s = s[len(s)-len(suffix):]
	for i := 0; i < len(s); i++ {
		if lower(s[i]) != suffix[i] {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// splitLast splits a compound word before its last part: after the last
// '-', '_', ' ' or '/', or at the last lower-to-upper case change.
func splitLast(w string) (head, tail string) {
	cut := 0
	prevLower := false
	for i, c := range w {
		switch {
		case c == '-' || c == '_' || c == ' ' || c == '/':
			cut = i + 1
			prevLower = false
		case unicode.IsUpper(c):
			if prevLower {
				cut = i
			}
			prevLower = false
		default:
			prevLower = unicode.IsLower(c) || unicode.IsDigit(c)
		}
	}
	return w[:cut], w[cut:]
}

// matchCase spells repl (lower case) in the case of w: all upper,
// capitalized, or as is.
func matchCase(w, repl string) string {
	if isUpperWord(w) {
		return strings.ToUpper(repl)
	}
	if c, _ := utf8.DecodeRuneInString(w); unicode.IsUpper(c) {
		r, n := utf8.DecodeRuneInString(repl)
		return string(unicode.ToUpper(r)) + repl[n:]
	}
	return repl
}

// isUpperWord reports whether w has letters and all of them upper case.
func isUpperWord(w string) bool { return strings.ToUpper(w) == w && strings.ToLower(w) != w }

// Dasherize spells a name in lower case with dashes between its words:
// "songCount" → "song-count", "github_handle" → "github-handle".
func Dasherize(s string) string { return join(s, '-') }

// Underscore spells a name in lower case with underscores between its
// words: "songCount" → "song_count", "github-handle" → "github_handle".
func Underscore(s string) string { return join(s, '_') }

// join lower-cases s and separates its words with sep. Words are split at
// '-', '_' and ' ', and before an upper-case letter that follows a lower
// case letter or digit ("songCount") or that starts a word after an
// acronym ("HTMLBody" → "html-body").
func join(s string, sep byte) string {
	if isLowerWith(s, sep) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	var prev rune = -1
	for i, c := range s {
		switch {
		case c == '-' || c == '_' || c == ' ':
			b.WriteByte(sep)
			prev = -1
			continue
		case unicode.IsUpper(c):
			if prev >= 0 && (unicode.IsLower(prev) || unicode.IsDigit(prev)) {
				b.WriteByte(sep)
			} else if prev >= 0 && unicode.IsUpper(prev) {
				// The last capital of an acronym starts a new word when
				// a lower-case letter follows: "HTMLBody".
				if n, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(c):]); unicode.IsLower(n) {
					b.WriteByte(sep)
				}
			}
			b.WriteRune(unicode.ToLower(c))
		default:
			b.WriteRune(c)
		}
		prev = c
	}
	return b.String()
}

// isLowerWith reports whether s is already in the form join(s, sep)
// gives, so the common case costs no allocation.
func isLowerWith(s string, sep byte) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || 'A' <= c && c <= 'Z' || c == ' ' || (c == '-' || c == '_') && c != sep {
			return false
		}
	}
	return true
}

// Camelize spells a name in lower camel case: "song_count" →
// "songCount", "github-handle" → "githubHandle", "Album" → "album".
func Camelize(s string) string {
	simple := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '-' || c == '_' || c == ' ' || c >= 0x80 || i == 0 && 'A' <= c && c <= 'Z' {
			simple = false
			break
		}
	}
	if simple {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	upper := false
	for i, c := range s {
		switch {
		case c == '-' || c == '_' || c == ' ':
			upper = b.Len() > 0
		case i == 0:
			b.WriteRune(unicode.ToLower(c))
		case upper:
			b.WriteRune(unicode.ToUpper(c))
			upper = false
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}
