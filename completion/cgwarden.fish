# SPDX-License-Identifier: GPL-2.0-only
# fish completion for cgwarden(8). As the bash and zsh ones, it offers what
# the program prints with `cgwarden __complete`: the commands, each
# command's options as its --help lists them (read once, when fish loads
# this file), their values by the option's placeholder (FILE, DIR, LIST,
# COLUMN), and set's TARGET: cgroup paths and workload names.

function __cgwarden_call
    set -l bin (commandline -opc)[1]
    test -n "$bin"; or set bin cgwarden
    command $bin __complete $argv 2>/dev/null
end

# --fields LIST: the ids, after the last comma of what is typed.
function __cgwarden_fields
    set -l tok (string replace -r -- '^-[^=]*=|^-f' '' (commandline -ct))
    set -l head (string replace -r -- '[^,]*$' '' $tok)
    for id in (__cgwarden_call fields)
        echo $head$id
    end
end

# set's TARGET, from the tree --root names on the line.
function __cgwarden_targets
    set -l words (commandline -opc)
    set -l root
    for i in (seq (count $words))
        switch $words[$i]
            case --root
                set root --root $words[(math $i + 1)]
            case '--root=*'
                set root --root (string replace -- --root= '' $words[$i])
        end
    end
    __cgwarden_call targets $root
end

# Whether the line has no operand yet after the command (set's TARGET,
# check-policy's FILE), counting an option's value as none.
function __cgwarden_no_operand
    set -l words (commandline -opc)
    set -l skip 0
    for w in $words[3..-1]
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case '--*=*'
            case '-*'
                contains -- $w $__cgwarden_valued; and set skip 1
            case '*'
                return 1
        end
    end
    return 0
end

set -g __cgwarden_valued
complete -c cgwarden -e
complete -c cgwarden -f
complete -c cgwarden -n __fish_use_subcommand -l version -d 'print the version'
for __cgwarden_line in (command cgwarden __complete commands 2>/dev/null)
    set -l cmd (string split -m 1 \t -- $__cgwarden_line)
    complete -c cgwarden -n __fish_use_subcommand -a $cmd[1] -d "$cmd[2]"
    for __cgwarden_opt in (command cgwarden __complete options $cmd[1] 2>/dev/null)
        # OPTION, ARG (empty for a flag), TEXT
        set -l f (string split -m 2 \t -- $__cgwarden_opt)
        set -l name
        if string match -q -- '--*' $f[1]
            set name -l (string sub -s 3 -- $f[1])
        else
            set name -s (string sub -s 2 -- $f[1])
        end
        set -l value
        switch "$f[1]:$f[2]"
            case '--policy:*' '-p:*'
                set value -r -F
            case '*:LIST'
                set value -x -a '(__cgwarden_fields)'
            case '*:COLUMN'
                set value -x -a '(__cgwarden_call columns)'
            case '*:FILE' '*:DEST'
                set value -r -F
            case '*:DIR'
                set value -x -a '(__fish_complete_directories (commandline -ct))'
            case '*:'
            case '*'
                # Typed: TIME, DUR, N, SIZE, ADDR ...
                set value -x
        end
        test -n "$f[2]"; and set -a __cgwarden_valued $f[1]
        complete -c cgwarden -n "__fish_seen_subcommand_from $cmd[1]" $name $value -d "$f[3]"
    end
end
set -e __cgwarden_line __cgwarden_opt
complete -c cgwarden -n '__fish_seen_subcommand_from set; and __cgwarden_no_operand' \
    -x -a '(__cgwarden_targets)'
complete -c cgwarden -n '__fish_seen_subcommand_from check-policy; and __cgwarden_no_operand' \
    -F -a '(__fish_complete_suffix .json)'
