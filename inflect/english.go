package inflect

// A rule turns words with one of its endings from singular to plural or
// back. Rules are plain suffix tests, not regular expressions, so that
// inflecting an unseen word costs a few hundred nanoseconds and hostile
// payload keys cannot make it expensive.
type rule struct {
	ends  []string          // lower-case endings; the word must end with one, in any case
	whole bool              // the word must be exactly the ending
	cond  func(string) bool // if set, must hold for the word less its ending
	cut   int               // bytes to drop from the end
	add   string            // lower-case text to append
}

// consonantY reports whether a stem ending before a "y" makes it a
// consonant y, as in "category" but not "day" (and "quy" as in "query").
func consonantY(stem string) bool {
	if stem == "" {
		return false
	}
	if hasSuffixFold(stem, "qu") {
		return true
	}
	switch lower(stem[len(stem)-1]) {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return false
	}
	return true
}

// notF reports whether a stem is not empty and does not end in f.
func notF(stem string) bool { return stem != "" && lower(stem[len(stem)-1]) != 'f' }

// englishPlurals turn singular endings into plural ones. The first rule
// that matches wins, so specific endings come before general ones.
var englishPlurals = []rule{
	{ends: []string{"quiz"}, add: "zes"},
	{ends: []string{"oxen"}, whole: true},
	{ends: []string{"ox"}, whole: true, add: "en"},
	{ends: []string{"mice", "lice"}, whole: true},
	{ends: []string{"mouse", "louse"}, whole: true, cut: 4, add: "ice"},
	{ends: []string{"matrix", "matrex", "vertix", "vertex", "indix", "index"}, cut: 2, add: "ices"},
	{ends: []string{"x", "ch", "ss", "sh"}, add: "es"},
	{ends: []string{"y"}, cond: consonantY, cut: 1, add: "ies"},
	{ends: []string{"hive"}, add: "s"},
	{ends: []string{"fe"}, cond: notF, cut: 2, add: "ves"},
	{ends: []string{"lf", "rf"}, cut: 1, add: "ves"},
	{ends: []string{"sis"}, cut: 2, add: "es"},
	{ends: []string{"ta", "ia"}},
	{ends: []string{"tum", "ium"}, cut: 2, add: "a"},
	{ends: []string{"buffalo", "tomato", "potato", "hero", "echo"}, add: "es"},
	{ends: []string{"bus"}, add: "es"},
	{ends: []string{"alias", "status", "campus"}, add: "es"},
	{ends: []string{"octopi", "viri"}},
	{ends: []string{"octopus", "virus"}, cut: 2, add: "i"},
	{ends: []string{"axis", "testis"}, whole: true, cut: 2, add: "es"},
	{ends: []string{"s"}},
	{ends: []string{""}, add: "s"},
}

// englishSingulars turn plural endings into singular ones, first match
// wins.
var englishSingulars = []rule{
	{ends: []string{"databases"}, cut: 1},
	{ends: []string{"quizzes"}, cut: 3},
	{ends: []string{"matrices"}, cut: 4, add: "ix"},
	{ends: []string{"vertices", "indices"}, cut: 4, add: "ex"},
	{ends: []string{"oxen"}, whole: true, cut: 2},
	{ends: []string{"aliases", "statuses", "campuses"}, cut: 2},
	{ends: []string{"alias", "status", "campus"}},
	{ends: []string{"octopi", "viri"}, cut: 1, add: "us"},
	{ends: []string{"octopus", "virus"}},
	{ends: []string{"axis", "axes"}, whole: true, cut: 2, add: "is"},
	{ends: []string{"crisis", "crises", "testis", "testes"}, cut: 2, add: "is"},
	{ends: []string{"shoes"}, cut: 1},
	{ends: oeSuffixes, cut: 1},
	{ends: oeWords, whole: true, cut: 1},
	{ends: []string{"oes"}, cut: 2},
	{ends: []string{"buses"}, cut: 2},
	{ends: []string{"bus"}},
	{ends: []string{"mice", "lice"}, whole: true, cut: 3, add: "ouse"},
	{ends: []string{"xes", "ches", "sses", "shes"}, cut: 2},
	{ends: []string{"movies"}, cut: 1},
	{ends: []string{"series"}},
	{ends: ieSuffixes, cut: 1},
	{ends: ieWords, whole: true, cut: 1},
	{ends: []string{"ies"}, cond: consonantY, cut: 3, add: "y"},
	{ends: []string{"lves", "rves"}, cut: 3, add: "f"},
	{ends: []string{"tives", "hives"}, cut: 1},
	{ends: []string{"ves"}, cond: notF, cut: 3, add: "fe"},
	{ends: []string{
		"analysis", "analyses", "basis", "diagnosis", "diagnoses",
		"parenthesis", "parentheses", "prognosis", "prognoses", "synopsis",
		"synopses", "thesis", "theses",
	}, cut: 2, add: "is"},
	{ends: []string{"ta", "ia"}, cut: 1, add: "um"},
	{ends: []string{"news", "ss", "us"}},
	{ends: []string{"s"}, cut: 1},
}

// The singular rules cannot tell "cookies" (cookie) from "categories"
// (category), or "toes" (toe) from "tomatoes" (tomato), by their endings:
// the -y and -o words are the rule, and these lists name the -ie and -oe
// words, by their plurals, that would otherwise come back as "cooky" and
// "to". "bases" is "base", not "basis" as in Rails and Ember: base, case
// and vase are far likelier model names (and "basis" still pluralizes to
// "bases"; a Store resolves its own models' plurals first anyway).
//
// ieSuffixes and oeSuffixes end no -y or -o word's plural, so they also
// match as the end of a longer word ("fortunecookies"); ieWords and
// oeWords do ("copies", "cities", "tomatoes", "volcanoes", "hoboes",
// "chippies"), so they match only as a whole word, or as the last part of
// a compound ("apple-pies", "applePies").
var (
	ieSuffixes = []string{
		"aunties", "beanies", "birdies", "boogies", "bookies", "bowties",
		"brasseries", "brownies", "budgies", "calories", "collies", "cookies",
		"coteries", "cowries", "cuties", "doggies", "eyries", "foodies",
		"freebies", "goalies", "goodies", "groupies", "hoagies", "hoodies",
		"hotties", "junkies", "kiddies", "lassies", "lingeries", "magpies",
		"meanies", "menageries", "mounties", "neckties", "newbies", "nighties",
		"oldies", "pinkies", "pixies", "prairies", "quickies", "reveries",
		"rookies", "roomies", "rotisseries", "selfies", "smoothies", "sorties",
		"stogies", "sweeties", "talkies", "techies", "veggies", "walkies",
		"wheelies", "yuppies", "zombies",
	}
	ieWords    = []string{"dies", "genies", "hippies", "indies", "lies", "pies", "ties"}
	oeSuffixes = []string{"backhoes", "mistletoes", "tiptoes"}
	oeWords    = []string{
		"aloes", "canoes", "does", "floes", "foes", "hoes", "oboes", "roes",
		"sloes", "throes", "toes", "woes",
	}
)

// englishIrregular pairs singulars with plurals no rule produces.
var englishIrregular = [][2]string{
	{"person", "people"},
	{"man", "men"},
	{"woman", "women"},
	{"child", "children"},
	{"sex", "sexes"},
	{"move", "moves"},
	{"cow", "kine"},
	{"zombie", "zombies"},
	{"goose", "geese"},
	{"foot", "feet"},
	{"tooth", "teeth"},
	{"criterion", "criteria"},
	{"leaf", "leaves"},
	{"loaf", "loaves"},
	{"thief", "thieves"},
}

// englishUncountable are their own plural.
var englishUncountable = []string{
	"equipment", "information", "rice", "money", "species", "series",
	"fish", "sheep", "deer", "jeans", "police", "news", "metadata",
	"aircraft", "software", "feedback", "staff",
}
