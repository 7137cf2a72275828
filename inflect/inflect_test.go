package inflect_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recstore/recstore/inflect"
)

// pairs are singular/plural pairs both directions must agree on.
var pairs = []struct{ singular, plural string }{
	{"album", "albums"},
	{"person", "people"},
	{"Person", "People"},
	{"github-handle", "github-handles"},
	{"blog_post", "blog_posts"},
	{"blogPost", "blogPosts"},
	{"sales-person", "sales-people"},
	{"child", "children"},
	{"category", "categories"},
	{"query", "queries"},
	{"day", "days"},
	{"box", "boxes"},
	{"church", "churches"},
	{"wish", "wishes"},
	{"class", "classes"},
	{"bus", "buses"},
	{"status", "statuses"},
	{"alias", "aliases"},
	{"quiz", "quizzes"},
	{"matrix", "matrices"},
	{"vertex", "vertices"},
	{"index", "indices"},
	{"ox", "oxen"},
	{"mouse", "mice"},
	{"louse", "lice"},
	{"knife", "knives"},
	{"wolf", "wolves"},
	{"half", "halves"},
	{"analysis", "analyses"},
	{"crisis", "crises"},
	{"axis", "axes"},
	{"datum", "data"},
	{"medium", "media"},
	{"octopus", "octopi"},
	{"tomato", "tomatoes"},
	{"shoe", "shoes"},
	{"movie", "movies"},
	{"hive", "hives"},
	{"perspective", "perspectives"},
	{"database", "databases"},
	{"goose", "geese"},
	{"tooth", "teeth"},
	{"sheep", "sheep"},
	{"news", "news"},
	{"series", "series"},
	{"species", "species"},
	{"equipment", "equipment"},
	{"human", "humans"},
	{"leaf", "leaves"},
	{"thief", "thieves"},
	{"wife", "wives"},
	{"life", "lives"},
	{"song", "songs"},
	{"track", "tracks"},
	{"label", "labels"},
	{"comment", "comments"},

	// -ie, -oe and -ase words, which came back as "cooky", "to" and
	// "basis".
	{"cookie", "cookies"},
	{"fortune-cookie", "fortune-cookies"},
	{"fortuneCookie", "fortuneCookies"},
	{"fortune_cookie", "fortune_cookies"},
	{"Cookie", "Cookies"},
	{"COOKIE", "COOKIES"},
	{"pie", "pies"},
	{"apple-pie", "apple-pies"},
	{"applePie", "applePies"},
	{"magpie", "magpies"},
	{"tie", "ties"},
	{"necktie", "neckties"},
	{"bow-tie", "bow-ties"},
	{"lie", "lies"},
	{"die", "dies"},
	{"calorie", "calories"},
	{"kilocalorie", "kilocalories"},
	{"selfie", "selfies"},
	{"hoodie", "hoodies"},
	{"brownie", "brownies"},
	{"rookie", "rookies"},
	{"goalie", "goalies"},
	{"zombie", "zombies"},
	{"genie", "genies"},
	{"hippie", "hippies"},
	{"indie", "indies"},
	{"smoothie", "smoothies"},
	{"prairie", "prairies"},
	{"sortie", "sorties"},
	{"techie", "techies"},
	{"veggie", "veggies"},
	{"pixie", "pixies"},
	{"toe", "toes"},
	{"tiptoe", "tiptoes"},
	{"canoe", "canoes"},
	{"oboe", "oboes"},
	{"foe", "foes"},
	{"hoe", "hoes"},
	{"backhoe", "backhoes"},
	{"woe", "woes"},
	{"floe", "floes"},
	{"horseshoe", "horseshoes"},
	{"base", "bases"},
	{"case", "cases"},
	{"vase", "vases"},
	{"phrase", "phrases"},
	{"purchase", "purchases"},
	{"knowledge-base", "knowledge-bases"},

	// Their -y and -o neighbours, which the lists above must not catch.
	{"copy", "copies"},
	{"city", "cities"},
	{"party", "parties"},
	{"lily", "lilies"},
	{"fly", "flies"},
	{"ally", "allies"},
	{"body", "bodies"},
	{"progeny", "progenies"},
	{"chippy", "chippies"},
	{"sky", "skies"},
	{"story", "stories"},
	{"library", "libraries"},
	{"country", "countries"},
	{"strategy", "strategies"},
	{"potato", "potatoes"},
	{"hero", "heroes"},
	{"echo", "echoes"},
	{"volcano", "volcanos"},
	{"hobo", "hobos"},
}

// singularOnly are plurals whose singular the rules must find, though
// Plural makes another plural of it (volcano → volcanos).
var singularOnly = []struct{ plural, singular string }{
	{"volcanoes", "volcano"},
	{"hoboes", "hobo"},
	{"torpedoes", "torpedo"},
	{"mosquitoes", "mosquito"},
	{"chippies", "chippy"},
	{"progenies", "progeny"},
}

func TestSingularOnly(t *testing.T) {
	r := inflect.English()
	for _, p := range singularOnly {
		assert.Equal(t, p.singular, r.Singular(p.plural), "Singular(%q)", p.plural)
	}
}

func TestPluralAndSingular(t *testing.T) {
	r := inflect.English()
	for _, p := range pairs {
		t.Run(p.singular, func(t *testing.T) {
			assert.Equal(t, p.plural, r.Plural(p.singular), "Plural(%q)", p.singular)
			assert.Equal(t, p.singular, r.Singular(p.plural), "Singular(%q)", p.plural)
			assert.Equal(t, p.plural, r.Plural(p.plural), "Plural of a plural stays")
			assert.Equal(t, p.singular, r.Singular(p.singular), "Singular of a singular stays")
		})
	}
}

// Every singular above comes back from its plural, in each case the
// serializers read.
func TestRoundTrip(t *testing.T) {
	r := inflect.English()
	for _, p := range pairs {
		words := []string{p.singular}
		if strings.ToUpper(p.singular) != p.singular { // camelizing COOKIE gives cOOKIE, which is no word
			words = append(words, inflect.Dasherize(p.singular), inflect.Camelize(p.singular), inflect.Underscore(p.singular))
		}
		for _, w := range words {
			assert.Equal(t, w, r.Singular(r.Plural(w)), "Singular(Plural(%q)), Plural is %q", w, r.Plural(w))
		}
	}
}

// "bases" is base's plural; basis still pluralizes to it, so basis alone
// no longer round-trips (a Store resolves a registered basis model's
// "bases" to it all the same).
func TestBasesIsBase(t *testing.T) {
	r := inflect.English()
	assert.Equal(t, "bases", r.Plural("basis"))
	assert.Equal(t, "base", r.Singular("bases"))
	assert.Equal(t, "basis", r.Singular("basis"))
	assert.Equal(t, "database", r.Singular("databases"))
	r.Irregular("basis", "bases")
	assert.Equal(t, "basis", r.Singular("bases"), "an app that wants basis adds it")
}

func TestClone(t *testing.T) {
	r := inflect.English()
	r.Irregular("cactus", "cacti")
	c := r.Clone()
	assert.Equal(t, "cacti", c.Plural("cactus"), "words added before Clone are kept")
	c.Irregular("formula", "formulae")
	r.Uncountable("firmware")
	assert.Equal(t, "formulas", r.Plural("formula"), "the clone's words stay in the clone")
	assert.Equal(t, "formulae", c.Plural("formula"))
	assert.Equal(t, "firmwares", c.Plural("firmware"), "the original's later words stay in it")
	assert.Equal(t, "firmware", r.Plural("firmware"))
	var nilRules *inflect.Rules
	assert.Nil(t, nilRules.Clone())
}

func TestEdgeWords(t *testing.T) {
	r := inflect.English()
	assert.Equal(t, "", r.Plural(""))
	assert.Equal(t, "", r.Singular(""))
	assert.Equal(t, "-", r.Singular("-"))
	assert.Equal(t, "a-", r.Plural("a-"))
	assert.Equal(t, "PEOPLE", r.Plural("PERSON"))
	assert.Equal(t, "CATEGORY", r.Singular("CATEGORIES"))
	assert.Equal(t, "Category", r.Singular("Categories"))
	assert.Equal(t, "BOXES", r.Plural("BOX"))
	assert.Equal(t, "fes", r.Plural("fe"), "no stem before fe")
	assert.Equal(t, "ys", r.Plural("y"), "no stem before y")
	assert.Equal(t, "boxen", r.Singular("boxen"), "oxen only as a whole word")
	assert.Equal(t, "ünïcödes", r.Plural("ünïcöde"))
}

func TestAddedWords(t *testing.T) {
	r := inflect.English()
	r.Irregular("cactus", "cacti")
	r.Uncountable("firmware")
	assert.Equal(t, "cacti", r.Plural("cactus"))
	assert.Equal(t, "cactus", r.Singular("cacti"))
	assert.Equal(t, "firmware", r.Plural("firmware"))

	// Another English() is not affected.
	assert.Equal(t, "firmwares", inflect.English().Plural("firmware"))
}

func TestCacheSeesNewWords(t *testing.T) {
	r := inflect.English()
	assert.Equal(t, "formulas", r.Plural("formula"))
	r.Irregular("formula", "formulae")
	assert.Equal(t, "formulae", r.Plural("formula"))
}

func TestZeroRules(t *testing.T) {
	var r inflect.Rules
	assert.Equal(t, "albums", r.Singular("albums"))
	r.Irregular("person", "people")
	assert.Equal(t, "person", r.Singular("people"))
}

func TestConcurrentUse(t *testing.T) {
	r := inflect.English()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				w := fmt.Sprintf("thing%d", i%50)
				require.Equal(t, w, r.Singular(r.Plural(w)))
				if g == 0 && i%20 == 0 {
					r.Uncountable(fmt.Sprintf("stuff%d", i))
				}
			}
		})
	}
	wg.Wait()
}

func TestCases(t *testing.T) {
	tests := []struct{ in, dash, under, camel string }{
		{"songCount", "song-count", "song_count", "songCount"},
		{"song_count", "song-count", "song_count", "songCount"},
		{"song-count", "song-count", "song_count", "songCount"},
		{"SongCount", "song-count", "song_count", "songCount"},
		{"github-handle", "github-handle", "github_handle", "githubHandle"},
		{"HTMLBody", "html-body", "html_body", "hTMLBody"},
		{"innerHTML", "inner-html", "inner_html", "innerHTML"},
		{"album", "album", "album", "album"},
		{"Album", "album", "album", "album"},
		{"track2Name", "track2-name", "track2_name", "track2Name"},
		{"first name", "first-name", "first_name", "firstName"},
		{"_private", "-private", "_private", "private"},
		{"", "", "", ""},
		{"ÉtéCount", "été-count", "été_count", "étéCount"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.dash, inflect.Dasherize(tt.in), "Dasherize")
			assert.Equal(t, tt.under, inflect.Underscore(tt.in), "Underscore")
			assert.Equal(t, tt.camel, inflect.Camelize(tt.in), "Camelize")
		})
	}
}

func TestCommonCaseAllocatesNothing(t *testing.T) {
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = inflect.Dasherize("song-count") }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = inflect.Underscore("song_count") }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = inflect.Camelize("songCount") }))
	r := inflect.English()
	r.Singular("albums")
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = r.Singular("albums") }))
}

func FuzzInflect(f *testing.F) {
	for _, p := range pairs {
		f.Add(p.singular)
		f.Add(p.plural)
	}
	f.Add("HTMLBody\xff-é")
	r := inflect.English()
	f.Fuzz(func(t *testing.T, w string) {
		p, s := r.Plural(w), r.Singular(w)
		d, u, c := inflect.Dasherize(w), inflect.Underscore(w), inflect.Camelize(w)
		if utf8.ValidString(w) {
			for _, out := range []string{p, s, d, u, c} {
				if !utf8.ValidString(out) {
					t.Fatalf("invalid UTF-8 %q from %q", out, w)
				}
			}
		}
		// Case functions are idempotent.
		if inflect.Dasherize(d) != d || inflect.Underscore(u) != u {
			t.Fatalf("not idempotent: %q → %q, %q", w, d, u)
		}
	})
}

func BenchmarkSingular(b *testing.B) {
	r := inflect.English()
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			r.Singular("github-handles")
		}
	})
	b.Run("rules", func(b *testing.B) {
		words := make([]string, 10000)
		for i := range words {
			words[i] = fmt.Sprintf("word%dcategories", i)
		}
		// More words than the cache holds: most take the rules.
		i := 0
		for b.Loop() {
			r.Singular(words[i%len(words)])
			i++
		}
	})
}

func ExampleRules_Singular() {
	r := inflect.English()
	fmt.Println(r.Singular("albums"), r.Singular("people"), r.Singular("github-handles"))
	// Output: album person github-handle
}

func ExampleRules_Irregular() {
	r := inflect.English()
	r.Irregular("cactus", "cacti")
	fmt.Println(r.Plural("cactus"), r.Singular("cacti"))
	// Output: cacti cactus
}

func ExampleDasherize() {
	fmt.Println(inflect.Dasherize("songCount"), inflect.Underscore("songCount"), inflect.Camelize("song_count"))
	// Output: song-count song_count songCount
}
