package recstore

import (
	"fmt"
	"sort"
	"strings"
)

// unknownType is the error for a pushed document's type that names no
// model: ErrUnknownType, with a hint when the name is a registered model's
// name in another form (a plural, another case), the mark of a backend's
// payload given to Push instead of PushPayload. Only a failing push pays
// for the hint.
func unknownType(name string, tables map[string]*table) error {
	if m := resembled(name, tables); m != "" {
		return fmt.Errorf("%w %q (did you mean %q? Push takes model names; PushPayload reads a backend's own shape)", ErrUnknownType, name, m)
	}
	return fmt.Errorf("%w %q", ErrUnknownType, name)
}

// maxHintLen bounds the names unknownType looks for a model in: no model
// name is longer, and a document's type may be megabytes long.
const maxHintLen = 256

// resembled returns the registered model name that name spells in another
// form, or "": "albums" and "Album" for "album"; "music-albums",
// "music_album" and "MusicAlbums" for "musicAlbum". Case and word
// separators are ignored, and name is compared in the singular and with
// each model's plural (so "cookies" finds "cookie", whatever the
// singularizer makes of it). With several candidates the first in name
// order wins.
func resembled(name string, tables map[string]*table) string {
	if len(name) > maxHintLen {
		return ""
	}
	// Every table is the Store's: its payload keys and its own words
	// (Options.Inflector) come first, as PushPayload would read name.
	rules := inflector
	for _, t := range tables {
		if m := t.s.modelForPayloadKey(name); m != nil {
			return m.name
		}
		rules = t.s.inflector()
		break
	}
	names := make([]string, 0, len(tables))
	for m := range tables {
		names = append(names, m)
	}
	sort.Strings(names)
	want, one := foldName(name), foldName(rules.Singular(name))
	for _, m := range names {
		if f := foldName(m); f == want || f == one || foldName(rules.Plural(m)) == want {
			return m
		}
	}
	return ""
}

// foldName drops case and word separators, so that the spellings of one
// name in every naming case compare equal.
func foldName(s string) string {
	return strings.ToLower(strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == ' ' {
			return -1
		}
		return r
	}, s))
}
