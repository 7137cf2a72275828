package inflect

// englishPlurals turns singular endings into plural ones. The first
// pattern that matches wins, so specific endings come before general ones.
var englishPlurals = [][2]string{
	{`(quiz)$`, "${1}zes"},
	{`^(oxen)$`, "${1}"},
	{`^(ox)$`, "${1}en"},
	{`^(m|l)ice$`, "${1}ice"},
	{`^(m|l)ouse$`, "${1}ice"},
	{`(matr|vert|ind)(?:ix|ex)$`, "${1}ices"},
	{`(x|ch|ss|sh)$`, "${1}es"},
	{`([^aeiouy]|qu)y$`, "${1}ies"},
	{`(hive)$`, "${1}s"},
	{`([^f])fe$`, "${1}ves"},
	{`([lr])f$`, "${1}ves"},
	{`sis$`, "ses"},
	{`([ti])a$`, "${1}a"},
	{`([ti])um$`, "${1}a"},
	{`(buffal|tomat|potat|her|ech)o$`, "${1}oes"},
	{`(bu)s$`, "${1}ses"},
	{`(alias|status|campus)$`, "${1}es"},
	{`(octop|vir)i$`, "${1}i"},
	{`(octop|vir)us$`, "${1}i"},
	{`^(ax|test)is$`, "${1}es"},
	{`s$`, "s"},
	{`$`, "s"},
}

// englishSingulars turns plural endings into singular ones, first match
// wins.
var englishSingulars = [][2]string{
	{`(database)s$`, "${1}"},
	{`(quiz)zes$`, "${1}"},
	{`(matr)ices$`, "${1}ix"},
	{`(vert|ind)ices$`, "${1}ex"},
	{`^(ox)en`, "${1}"},
	{`(alias|status|campus)(es)?$`, "${1}"},
	{`(octop|vir)(us|i)$`, "${1}us"},
	{`^(a)x[ie]s$`, "${1}xis"},
	{`(cris|test)(is|es)$`, "${1}is"},
	{`(shoe)s$`, "${1}"},
	{`(o)es$`, "${1}"},
	{`(bus)(es)?$`, "${1}"},
	{`^(m|l)ice$`, "${1}ouse"},
	{`(x|ch|ss|sh)es$`, "${1}"},
	{`(m)ovies$`, "${1}ovie"},
	{`(s)eries$`, "${1}eries"},
	{`([^aeiouy]|qu)ies$`, "${1}y"},
	{`([lr])ves$`, "${1}f"},
	{`(tive)s$`, "${1}"},
	{`(hive)s$`, "${1}"},
	{`([^f])ves$`, "${1}fe"},
	{`(analy|ba|diagno|parenthe|progno|synop|the)(sis|ses)$`, "${1}sis"},
	{`([ti])a$`, "${1}um"},
	{`(n)ews$`, "${1}ews"},
	{`(ss)$`, "${1}"},
	{`(us)$`, "${1}"},
	{`s$`, ""},
}

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
}

// englishUncountable are their own plural.
var englishUncountable = []string{
	"equipment", "information", "rice", "money", "species", "series",
	"fish", "sheep", "deer", "jeans", "police", "news", "metadata",
	"aircraft", "software", "feedback", "staff",
}
