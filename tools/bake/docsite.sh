#!/bin/sh
# docsite.sh TEMPLATE OUTDIR README.md DOC.md... - renders Kiln's
# documentation into a folder of HTML pages for tools/bake to bake.
#
#   README.md     -> OUTDIR/index.html            (the front page, "/")
#   docs/NAME.md  -> OUTDIR/docs/NAME.html
#   (generated)   -> OUTDIR/docs/index.html       (a list of the docs)
#
# Markdown is rendered by cmark-gfm (Debian package; tables, autolinks,
# strikethrough; raw HTML in the Markdown is dropped, as cmark does by
# default). Links between the Markdown files are rewritten to the pages'
# URLs; headings get ids and a "#" link. TEMPLATE holds {{title}},
# {{nav}}, {{content}} and {{source}} (see apps/webserver/site/template.html).
# OUTDIR is replaced as a whole, and only once every page rendered.
set -eu

[ $# -ge 3 ] || { echo "usage: docsite.sh TEMPLATE OUTDIR README.md DOC.md..." >&2; exit 2; }
template=$1
out=$2
shift 2
command -v cmark-gfm >/dev/null || { echo "docsite: cmark-gfm is missing (make deps)" >&2; exit 1; }

tmp=$out.tmp
rm -rf "$tmp"
mkdir -p "$tmp/docs"

# The page's title: its first "# " heading, without Markdown marks.
title_of() {
	sed -n 's/^# *//p' "$1" | head -n 1 | tr -d '`*_'
}

# A side-list label from a file name: "app-api.md" -> "App api".
label_of() {
	basename "$1" .md | tr '_-' '  ' | awk '{ print toupper(substr($0, 1, 1)) substr($0, 2) }'
}

html_escape() {
	sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'
}

# The side list, the same on every page (site.js marks the current one).
{
	echo '<ul>'
	echo '<li><a href="/">Home</a></li>'
	echo '<li><a href="/docs/">All documentation</a></li>'
	for md in "$@"; do
		case $md in */README.md | README.md) continue ;; esac
		printf '<li><a href="/docs/%s.html">%s</a></li>\n' "$(basename "$md" .md)" \
			"$(label_of "$md" | html_escape)"
	done
	echo '</ul>'
} > "$tmp/nav.html"

# render MD: Markdown on stdin -> HTML fragment on stdout.
render() {
	cmark-gfm --smart --validate-utf8 -e table -e autolink -e strikethrough |
	sed -e 's#href="\(\.\./\)*README\.md\(\#[^"]*\)\{0,1\}"#href="/\2"#g' \
	    -e 's#href="\(\.\./\)*docs/\([A-Za-z0-9_.-]*\)\.md\(\#[^"]*\)\{0,1\}"#href="/docs/\2.html\3"#g' \
	    -e 's#href="\([A-Za-z0-9_-][A-Za-z0-9_.-]*\)\.md\(\#[^"]*\)\{0,1\}"#href="/docs/\1.html\2"#g' |
	awk '
	# Give each heading an id (its text, lower case, runs of other
	# characters as "-", numbered when repeated) and a link to itself.
	/^<h[1-6]>.*<\/h[1-6]>$/ {
		lvl = substr($0, 3, 1)
		inner = substr($0, 5, length($0) - 9)
		text = inner
		gsub(/<[^>]*>/, "", text)
		gsub(/&[a-z]+;|&#[0-9]+;/, "", text)
		slug = tolower(text)
		gsub(/[^a-z0-9]+/, "-", slug)
		gsub(/^-+|-+$/, "", slug)
		if (slug == "") slug = "section"
		if (seen[slug]++) slug = slug "-" seen[slug]
		printf "<h%s id=\"%s\">%s<a class=\"anchor\" href=\"#%s\" aria-label=\"Link to this section\">#</a></h%s>\n", lvl, slug, inner, slug, lvl
		next
	}
	{ print }'
}

# page TITLE SOURCE CONTENT-FILE OUT-FILE: fills the template in.
page() {
	TITLE=$(printf '%s' "$1" | html_escape) SOURCE=$2 NAV=$tmp/nav.html CONTENT=$3 \
	awk '
	function subst(s, key, val,    i, r) {
		r = ""
		while ((i = index(s, key)) > 0) {
			r = r substr(s, 1, i - 1) val
			s = substr(s, i + length(key))
		}
		return r s
	}
	function only(s, key,    t) {
		t = s
		gsub(/[ \t]/, "", t)
		return t == key
	}
	function cat(f,    l) {
		while ((getline l < f) > 0)
			print l
		close(f)
	}
	# the template'"'"'s own comment (a block opened by a lone "<!--") is not copied
	$0 == "<!--" { skip = 1 }
	skip { if (index($0, "-->")) skip = 0; next }
	only($0, "{{nav}}") { cat(ENVIRON["NAV"]); next }
	only($0, "{{content}}") { cat(ENVIRON["CONTENT"]); next }
	{
		l = subst($0, "{{title}}", ENVIRON["TITLE"])
		print subst(l, "{{source}}", ENVIRON["SOURCE"])
	}' "$template" > "$4"
}

list=$tmp/list.html
{
	echo '<h1 id="documentation">Documentation</h1>'
	echo '<ul class="doclist">'
} > "$list"

for md in "$@"; do
	name=$(basename "$md" .md)
	title=$(title_of "$md")
	[ -n "$title" ] || title=$(label_of "$md")
	render < "$md" > "$tmp/content.html"
	case $md in
	*/README.md | README.md)
		[ "$title" = Kiln ] && full="Kiln, a unikernel in C" || full="$title · Kiln"
		page "$full" README.md "$tmp/content.html" "$tmp/index.html"
		;;
	*)
		page "$title · Kiln" "docs/$name.md" "$tmp/content.html" "$tmp/docs/$name.html"
		printf '<li><a href="/docs/%s.html">%s</a></li>\n' "$name" \
			"$(printf '%s' "$title" | html_escape)" >> "$list"
		;;
	esac
done
echo '</ul>' >> "$list"
page "Documentation · Kiln" "docs/" "$list" "$tmp/docs/index.html"

rm -f "$tmp/nav.html" "$tmp/content.html" "$list"
rm -rf "$out"
mv "$tmp" "$out"
