package recstore

import (
	"unicode"
	"unicode/utf8"

	"github.com/recstore/recstore/inflect"
)

// ModelNameFromPayloadKey maps a payload key (a REST root key such as
// "cookies", a JSON:API resource type such as "github-handles", a
// relationship's type or name) to a model type, as the built-in
// serializers do when their own ModelNameFromPayloadKey hook is nil:
//
//  1. A key that is the name or the plural of a model registered in s,
//     dasherized, camelized or underscored ("cookie", "cookies",
//     "githubHandles", "github_handles"), or any of these in another case
//     ("GithubHandles"), gives that model. A model's own name beats
//     another's plural; two models with one plural give neither.
//  2. Any other key is guessed as the package's [ModelNameFromPayloadKey]
//     guesses it, dasherized and singular, with the Store's inflection
//     rules ([Options.Inflector]).
//
// So a model's payloads always name it, whatever the English rules make
// of its name, and a key for no model gives a name for no model. The
// lookup is built at each Register; reading it takes no lock.
func (s *Store) ModelNameFromPayloadKey(key string) string {
	if t := s.modelForPayloadKey(key); t != nil {
		return t.name
	}
	return inflect.Dasherize(s.inflector().Singular(key))
}

// modelForPayloadKey looks key up among the registered models' names and
// plurals (step 1 of ModelNameFromPayloadKey).
func (s *Store) modelForPayloadKey(key string) *table {
	p := s.payloadKeys.Load()
	if p == nil {
		return nil
	}
	if t := (*p)[key]; t != nil {
		return t
	}
	// Every form in the map is lower case with dashes, underscores or
	// humps; Dasherize brings "GithubHandles" or "GITHUB_HANDLES" to one
	// of them, and costs nothing for a key already dasherized.
	if d := inflect.Dasherize(key); d != key {
		return (*p)[d]
	}
	return nil
}

// inflector returns the Store's inflection rules.
func (s *Store) inflector() *inflect.Rules {
	if s.rules != nil {
		return s.rules
	}
	return inflector
}

// payloadKeyTable maps the payload keys that name the models of names
// (see ModelNameFromPayloadKey) to their tables, pluralizing with rules.
// Register builds a new one with each model and publishes it whole, so
// that reads need no lock, as for Store.tables.
//
// Keys come in three layers: the models' names as registered, then those
// names in each case (dasherized, camelized, underscored, capitalized),
// then their plurals in each case. A key an earlier layer holds is not
// taken by a later one; a key two models share within one layer is
// dropped, from that layer and those after it, and is left to the
// inflection guess.
func payloadKeyTable(rules *inflect.Rules, names map[string]*table) map[string]*table {
	forms := func(w string) []string {
		c := inflect.Camelize(w)
		return []string{w, inflect.Dasherize(w), c, inflect.Underscore(w), upperFirst(c)}
	}
	m := make(map[string]*table, 8*len(names))
	blocked := map[string]bool{}
	layer := func(keys func(name string) []string) {
		l := map[string]*table{}
		shared := map[string]bool{}
		for name, t := range names {
			for _, k := range keys(name) {
				if u, ok := l[k]; ok && u != t {
					shared[k] = true
				}
				l[k] = t
			}
		}
		for k, t := range l {
			switch {
			case m[k] != nil || blocked[k]:
			case shared[k]:
				blocked[k] = true
			default:
				m[k] = t
			}
		}
	}
	layer(func(name string) []string { return []string{name} })
	layer(forms)
	layer(func(name string) []string {
		var out []string
		for _, w := range forms(name) {
			out = append(out, forms(rules.Plural(w))...)
		}
		return out
	})
	return m
}

// upperFirst capitalizes s: "githubHandles" → "GithubHandles", the form
// payloads from C# and Java backends use.
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || unicode.IsUpper(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
