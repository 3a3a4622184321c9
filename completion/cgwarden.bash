# SPDX-License-Identifier: GPL-2.0-only
# bash completion for cgwarden(8).                      -*- shell-script -*-
#
# Everything offered comes from the program (the hidden `cgwarden
# __complete`): commands, each command's options as its --help lists them
# with the placeholder of their value (FILE, DIR, LIST ...), the ids
# --fields accepts, top's sort columns, and the cgroup paths and workload
# names `set` accepts. It needs no bash-completion package functions; with
# that package it is loaded on demand from
# /usr/share/bash-completion/completions/cgwarden, without it source this
# file (cgwarden(8), COMPLETION).

_cgwarden_call()
{
	local bin=${_cgwarden_bin:-cgwarden}

	[[ $bin == "~/"* ]] && bin=$HOME/${bin#"~/"}
	"$bin" __complete "$@" 2>/dev/null
}

# Splits $1 (the line up to the cursor) into raw words as the shell would,
# at unquoted blanks, keeping quotes and backslashes: COMP_WORDS splits at
# COMP_WORDBREAKS too, so "a:b" or "--fields=cpu" would be three words.
# Sets _cgwarden_words; a line ending in a blank ends with an empty word.
_cgwarden_split()
{
	local line=$1 w= q= c i
	local -i inword=0

	_cgwarden_words=()
	for ((i = 0; i < ${#line}; i++)); do
		c=${line:i:1}
		if [[ $q ]]; then
			w+=$c
			if [[ $c == "$q" ]]; then
				q=
			elif [[ $c == \\ && $q == '"' ]]; then
				w+=${line:i+1:1}
				((i++))
			fi
		elif [[ $c == [[:blank:]] ]]; then
			((inword)) && _cgwarden_words+=("$w")
			w= inword=0
		else
			inword=1
			w+=$c
			if [[ $c == [\'\"] ]]; then
				q=$c
			elif [[ $c == \\ ]]; then
				w+=${line:i+1:1}
				((i++))
			fi
		fi
	done
	_cgwarden_words+=("$w")
}

# The word as the program will see it: quotes and backslashes removed.
_cgwarden_dequote()
{
	local s=$1 o= c q= i

	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		if [[ $q ]]; then
			if [[ $c == "$q" ]]; then
				q=
			elif [[ $c == \\ && $q == '"' && ${s:i+1:1} == [\"\\\$\`] ]]; then
				o+=${s:i+1:1}
				((i++))
			else
				o+=$c
			fi
		elif [[ $c == [\'\"] ]]; then
			q=$c
		elif [[ $c == \\ ]]; then
			o+=${s:i+1:1}
			((i++))
		else
			o+=$c
		fi
	done
	printf '%s' "$o"
}

# COMPREPLY from candidates (one per line on stdin, raw bytes) that start
# with the value being typed, quoted for the command line. Readline
# replaces only the text after the last COMP_WORDBREAKS character (":"
# in a path, "=" of --opt=value), so that much of the typed value is cut
# from each reply, as bash-completion's __ltrim_colon_completions does.
_cgwarden_reply()
{
	local line r pre

	while IFS= read -r line; do
		[[ $line == "$_cgwarden_val"* ]] || continue
		if [[ $_cgwarden_quote ]]; then
			# Inside an open quote readline takes the text as it is.
			r=$line
			pre=${_cgwarden_val%"$_cgwarden_rlval"}
		else
			# Plain words stay plain (%q would write "cpu\,memory").
			r=$line
			[[ $line == *[!A-Za-z0-9_.,/:@%+=-]* || $line == [~]* ]] &&
				printf -v r '%q' "$line"
			pre=${_cgwarden_raw%"$_cgwarden_rlword"}
		fi
		[[ $pre && $r == "$pre"* ]] && r=${r#"$pre"}
		COMPREPLY+=("$r")
	done
}

# Files for a FILE value: $1 a glob to prefer (*.json), then any file if
# none matches; directories always, to descend into.
_cgwarden_files()
{
	local IFS=$'\n' f

	compopt -o filenames 2>/dev/null
	if [[ $1 ]]; then
		COMPREPLY=($(compgen -f -X "!$1" -- "$_cgwarden_val"))
		COMPREPLY+=($(compgen -d -- "$_cgwarden_val"))
		for f in "${COMPREPLY[@]}"; do
			[[ -d $f ]] || return 0
		done
	fi
	COMPREPLY=($(compgen -f -- "$_cgwarden_val"))
}

_cgwarden_dirs()
{
	local IFS=$'\n'

	compopt -o filenames 2>/dev/null
	COMPREPLY=($(compgen -d -- "$_cgwarden_val"))
}

# --fields LIST: ids, comma-separated; the part after the last comma.
_cgwarden_fields()
{
	local head= id

	[[ $_cgwarden_val == *,* ]] && head=${_cgwarden_val%,*},
	while IFS= read -r id; do
		printf '%s\n' "$head$id"
	done < <(_cgwarden_call fields)
}

_cgwarden()
{
	local cmd cur prev opt= word i o a line root=
	local -A argof=()
	local -a words
	local -i cword n=0

	COMPREPLY=()
	_cgwarden_bin=${COMP_WORDS[0]}
	if [[ -n ${COMP_LINE-} ]]; then
		_cgwarden_split "${COMP_LINE:0:${COMP_POINT:-${#COMP_LINE}}}"
		words=("${_cgwarden_words[@]}")
	else
		words=("${COMP_WORDS[@]:0:COMP_CWORD+1}")
	fi
	cword=$((${#words[@]} - 1))
	cur=${words[cword]}
	prev=
	((cword > 0)) && prev=${words[cword - 1]}
	# What readline replaces: COMP_WORDS' word, or nothing after a break
	# character ("--root=" is "--root" "=" "").
	_cgwarden_rlword=${COMP_WORDS[COMP_CWORD]-$cur}
	[[ $_cgwarden_rlword && -z ${_cgwarden_rlword//[$COMP_WORDBREAKS]/} ]] && _cgwarden_rlword=
	[[ -z ${COMP_LINE-} ]] && _cgwarden_rlword=$cur

	if [[ $cur == --*=* ]]; then
		opt=${cur%%=*}
		cur=${cur#*=}
	fi
	_cgwarden_raw=$cur
	_cgwarden_quote=
	if [[ $cur == [\'\"]* ]]; then
		_cgwarden_quote=${cur:0:1}
		_cgwarden_rlval=$(_cgwarden_dequote "${_cgwarden_rlword#[\'\"]}")
	fi
	_cgwarden_val=$(_cgwarden_dequote "$cur")

	if ((cword == 1)); then
		if [[ $cur == -* ]]; then
			_cgwarden_reply < <(echo --version
				_cgwarden_call options top | cut -f1)
		else
			_cgwarden_reply < <(_cgwarden_call commands | cut -f1)
		fi
		return 0
	fi
	cmd=${words[1]}
	# "cgwarden --tree" is top with options.
	[[ $cmd == -* ]] && cmd=top
	case $cmd in
	help | version | -h | --help | --version | __complete) return 0 ;;
	esac

	# Each option and its value's placeholder ("." for a flag).
	# (Split by hand: read would merge the empty field of a flag.)
	while IFS= read -r line; do
		o=${line%%$'\t'*}
		a=${line#*$'\t'}
		a=${a%%$'\t'*}
		[[ $o == -* ]] && argof[$o]=${a:-.}
	done < <(_cgwarden_call options "$cmd")

	# Operands before the word being completed; an option's value is none.
	for ((i = 2; i < cword; i++)); do
		word=${words[i]}
		if [[ $word == -* ]]; then
			if [[ $word != *=* && ${argof[$word]-.} != . ]]; then
				((i++))
				[[ $word == --root ]] && root=$(_cgwarden_dequote "${words[i]}")
			elif [[ $word == --root=* ]]; then
				root=$(_cgwarden_dequote "${word#--root=}")
			fi
			continue
		fi
		n+=1
	done
	if [[ -z $opt && $prev == -* && $prev != *=* && ${argof[$prev]-.} != . ]]; then
		opt=$prev
	fi

	if [[ $opt ]]; then
		case $opt:${argof[$opt]-} in
		--policy:* | -p:*) _cgwarden_files '*.json' ;;
		*:LIST) _cgwarden_reply < <(_cgwarden_fields) ;;
		*:COLUMN) _cgwarden_reply < <(_cgwarden_call columns) ;;
		*:FILE | *:DEST) _cgwarden_files '' ;;
		*:DIR) _cgwarden_dirs ;;
		esac
		# Anything else (TIME, DUR, N, SIZE, ADDR ...) is typed.
		return 0
	fi

	if [[ $cur != -* ]]; then
		case $cmd in
		set)
			if ((n == 0)); then
				_cgwarden_reply < <(_cgwarden_call targets ${root:+--root "$root"})
				return 0
			fi
			;;
		check-policy)
			if ((n == 0)); then
				_cgwarden_files '*.json'
				return 0
			fi
			;;
		esac
	fi
	# Long options only until a "-" asks for the short ones too.
	_cgwarden_reply < <(for o in "${!argof[@]}"; do
		[[ $cur || $o == --* ]] && printf '%s\n' "$o"
	done | LC_ALL=C sort)
	return 0
} &&
	complete -F _cgwarden cgwarden
