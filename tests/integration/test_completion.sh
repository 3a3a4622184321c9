#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Shell completion (completion/, cgwarden __complete) on this host's real
# cgroups: the bash function is called as bash calls it (COMP_WORDS,
# COMP_CWORD, COMP_LINE, COMP_POINT) and its COMPREPLY checked. It needs
# no bash-completion package. What __complete prints is checked against
# the program: every option it lists is one getopt_long knows, every id
# it lists is one --fields accepts.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../podman.sh"
if ! cg_setup; then skip completion "$SKIP_WHY"; finish; fi

BIN=$(realpath "$CGWARDEN")
# Odd but legal names (the kernel refuses a newline in one).
mkdir "$CG_TEST/web" "$CG_TEST/we ird" "$CG_TEST/a:b" "$CG_TEST/quo'te"

. completion/cgwarden.bash

# comp LINE [WORD...]: COMPREPLY, one per line, for LINE typed up to the
# cursor at its end; the words are LINE split at blanks unless given (bash
# splits "--fields=x" into "--fields" "=" "x", and "a:b" likewise).
comp() {
	local line=$1
	shift
	COMP_LINE=$line
	COMP_POINT=${#line}
	if [ $# -gt 0 ]; then
		COMP_WORDS=("$@")
	else
		read -ra COMP_WORDS <<<"$line"
		[[ $line == *" " ]] && COMP_WORDS+=("")
	fi
	COMP_WORDS[0]=$BIN
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_cgwarden
	[ ${#COMPREPLY[@]} -gt 0 ] && printf '%s\n' "${COMPREPLY[@]}"
}

# has NAME WANT REPLY: REPLY (lines) holds the line WANT.
has() {
	if grep -qxF -- "$2" <<<"$3"; then
		pass "$1"
	else
		fail "$1" "no '$2' in: $(head -c 300 <<<"$3" | tr '\n' ' ')"
	fi
}

# --- what __complete prints -------------------------------------------------

cmds=$("$BIN" __complete commands | cut -f1)
usage=$("$BIN" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF { print $1 }' | grep -v '^Commands:')
[ -n "$cmds" ] && [ "$cmds" = "$usage" ] && pass "commands_are_the_usage's" ||
	fail "commands_are_the_usage's" "$(echo $cmds) vs $(echo $usage)"
"$BIN" --help | grep -q __complete && fail complete_hidden "__complete in the usage" ||
	pass complete_hidden

# Each option a --help lists is one the command's getopt_long takes: the
# help text is what the completion reads. A value is given (--opt=x, -nx)
# to those that take one; what the value is worth does not matter here.
bad=
nopt=0
for c in $cmds; do
	while IFS= read -r line; do
		o=${line%%$'\t'*}
		a=${line#*$'\t'}
		a=${a%%$'\t'*}
		case $o in
		--*) [ -n "$a" ] && try=("$o=x") || try=("$o") ;;
		-?) [ -n "$a" ] && try=("${o}x") || try=("$o") ;;
		*) bad+=" $c:'$o'(not an option)"; continue ;;
		esac
		nopt=$((nopt + 1))
		err=$(timeout 10 "$BIN" "$c" "${try[@]}" --help 2>&1 >/dev/null </dev/null)
		if grep -qE 'unrecognized option|invalid option|requires an argument|allow an argument' <<<"$err"; then
			bad+=" $c:$o ($(head -n 1 <<<"$err"))"
		fi
	done < <("$BIN" __complete options "$c")
done
[ -z "$bad" ] && [ "$nopt" -gt 50 ] && pass "options_known_to_getopt ($nopt)" ||
	fail options_known_to_getopt "$nopt options;$bad"
"$BIN" __complete options set | cut -f1 | grep -qx -- --fixture-root &&
	fail test_options_hidden "--fixture-root (not in set --help) offered" ||
	pass test_options_hidden

# Every id listed is accepted by --fields, one at a time.
fields=$("$BIN" __complete fields)
nf=$(wc -l <<<"$fields")
bad=
while IFS= read -r id; do
	"$BIN" stream --root "$CG_TEST" --no-bpf --quiet -n 1 --fields "$id" >/dev/null 2>&1 ||
		bad+=" $id"
done <<<"$fields"
[ -z "$bad" ] && [ "$nf" -gt 100 ] && pass "fields_accepted_by_stream ($nf ids)" ||
	fail fields_accepted_by_stream "$nf ids; refused:$bad"
has fields_has_identity name "$fields"
has fields_has_metric memory.stat.anon "$fields"

targets=$("$BIN" __complete targets)
has targets_path "$CG_REL/web" "$targets"
has targets_path_with_space "$CG_REL/we ird" "$targets"
# The cost, with the tree's size: each TAB on set's TARGET pays it.
n=$(wc -l <<<"$targets")
t0=$(date +%s%N)
for _ in 1 2 3 4 5 6 7 8 9 10; do "$BIN" __complete targets >/dev/null; done
t1=$(date +%s%N)
echo "# __complete targets: $(((t1 - t0) / 10000000)) ms each, $n lines, $(find "$CG_MNT" -type d 2>/dev/null | wc -l) cgroups"

# --- the bash function --------------------------------------------------------

r=$(comp "cgwarden sn")
[ "$r" = snapshot ] && pass complete_command || fail complete_command "got: $r"
r=$(comp "cgwarden ")
has complete_commands_all check-policy "$r"
grep -q __complete <<<"$r" && fail complete_commands_hidden "$r" || pass complete_commands_hidden
r=$(comp "cgwarden snapshot --co")
[ "$r" = --compact ] && pass complete_option || fail complete_option "got: $r"
r=$(comp "cgwarden stream --fi")
[ "$r" = --fields ] && pass complete_option_fields || fail complete_option_fields "got: $r"
r=$(comp "cgwarden set x --")
has complete_set_options --memory-high "$r"

r=$(comp "cgwarden stream --fields cpu.us")
has fields_prefix cpu.usage_ratio "$r"
grep -qv '^cpu\.us' <<<"$r" && fail fields_prefix_only "$r" || pass fields_prefix_only
r=$(comp "cgwarden stream -f cpu.usage_ratio,mem")
has fields_after_comma cpu.usage_ratio,memory.current_bytes "$r"
grep -qv '^cpu\.usage_ratio,mem' <<<"$r" && fail fields_after_comma_only "$r" ||
	pass fields_after_comma_only
# --fields=cpu.us: bash's words are "--fields" "=" "cpu.us".
r=$(comp "cgwarden stream --fields=cpu.us" cgwarden stream --fields = cpu.us)
has fields_after_equals cpu.usage_ratio "$r"
# Without COMP_LINE (as some callers do): COMP_WORDS alone.
r=$(COMP_LINE= ; unset COMP_LINE COMP_POINT; COMP_WORDS=("$BIN" stream --fields cpu.us)
	COMP_CWORD=3; COMPREPLY=(); _cgwarden; printf '%s\n' "${COMPREPLY[@]}")
has fields_words_only cpu.usage_ratio "$r"

r=$(comp "cgwarden set $CG_REL/w")
has set_target_path "$CG_REL/web" "$r"
has set_target_quoted "$CG_REL/we\\ ird" "$r"
r=$(comp "cgwarden set '$CG_REL/we" cgwarden set "'$CG_REL/we")
has set_target_in_quotes "$CG_REL/we ird" "$r"
# "a:b": readline replaces only what follows the ':'.
r=$(comp "cgwarden set $CG_REL/a:" cgwarden set "$CG_REL/a" :)
[ "$r" = b ] && pass set_target_colon || fail set_target_colon "got: $r"
r=$(comp "cgwarden set $CG_REL/q")
has set_target_quote "$CG_REL/quo\\'te" "$r"
r=$(comp "cgwarden set --root $CG_TEST w")
has set_target_under_root web "$r"

# A real container, named by its runtime.
if podman_setup && img=$(podman_busybox_image); then
	name=${PODMAN_PREFIX}web
	if podman run -d --name "$name" "$img" sleep 300 >/dev/null 2>&1 &&
		podman_wait_running "$name"; then
		r=$(comp "cgwarden set ${PODMAN_PREFIX}w")
		has set_target_podman_name "$name" "$r"
	else
		skip set_target_podman_name "podman run failed here"
	fi
else
	skip set_target_podman_name "${SKIP_WHY:-no busybox image could be built}"
fi

dir=$(mktemp -d)
mkdir "$dir/sub"
touch "$dir/rules.json" "$dir/notes.txt"
r=$(cd "$dir" && comp "cgwarden daemon --policy ")
has policy_json rules.json "$r"
has policy_dirs sub "$r"
grep -qx notes.txt <<<"$r" && fail policy_json_first "$r" || pass policy_json_first
r=$(cd "$dir" && comp "cgwarden check-policy ")
has check_policy_file rules.json "$r"
r=$(cd "$dir" && comp "cgwarden record -o ")
[ "$r" = sub ] && pass output_dir || fail output_dir "got: $r"
r=$(cd "$dir" && comp "cgwarden stream -o ")
has stream_output_file notes.txt "$r"
rm -rf "$dir"
r=$(comp "cgwarden top --sort ")
has sort_columns "cpu%" "$r"
r=$(comp "cgwarden serve --listen ")
[ -z "$r" ] && pass listen_typed || fail listen_typed "got: $r"

# --- the other shells: they parse ------------------------------------------------

if command -v zsh >/dev/null; then
	zsh -n completion/_cgwarden && pass zsh_parses || fail zsh_parses
else
	skip zsh_parses "zsh not installed"
fi
if command -v fish >/dev/null; then
	fish -n completion/cgwarden.fish && pass fish_parses || fail fish_parses
	# fish answers a completion from a script: complete -C LINE.
	fc() { PATH=$(dirname "$BIN"):$PATH fish -c 'source completion/cgwarden.fish; complete -C $argv[1]' "$1" | cut -f1; }
	has fish_set_target "$CG_REL/we ird" "$(fc "cgwarden set $CG_REL/we")"
	has fish_fields cpu.usage_ratio,memory.current_bytes "$(fc "cgwarden stream --fields cpu.usage_ratio,memory.cur")"
	has fish_option --compact "$(fc "cgwarden snapshot --co")"
else
	skip fish_parses "fish not installed"
fi
finish
