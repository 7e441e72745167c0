# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pvenotify_global_optspecs
    string join \n config-dir= output-format= v/verbose q/quiet hostname= sendmail= template-dir= h/help V/version
end

function __fish_pvenotify_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_pvenotify_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_pvenotify_using_subcommand
    set -l cmd (__fish_pvenotify_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c pvenotify -n "__fish_pvenotify_needs_command" -l config-dir -d 'Directory holding notifications.cfg, priv/notifications.cfg, user.cfg and datacenter.cfg' -r -F
complete -c pvenotify -n "__fish_pvenotify_needs_command" -l output-format -d 'Format of standard output; errors and warnings stay text on standard error' -r -f -a "text\t'Human-readable text'
json\t'One compact JSON document'
json-pretty\t'One JSON document indented by two spaces'"
complete -c pvenotify -n "__fish_pvenotify_needs_command" -l hostname -d 'Host name for the default hostname field and for Message-IDs: letters, digits, `-` and `_` in dot-separated labels. Default: the kernel\'s node name (its first label for the field)' -r
complete -c pvenotify -n "__fish_pvenotify_needs_command" -l sendmail -d 'The sendmail program that sendmail targets run (an absolute path)' -r -F
complete -c pvenotify -n "__fish_pvenotify_needs_command" -l template-dir -d 'Vendor base of the notification templates (its default/ folder holds NAME-subject.txt.hbs, NAME-body.txt.hbs and NAME-body.html.hbs); files in CONFIG_DIR/notification-templates/default/ override them' -r -F
complete -c pvenotify -n "__fish_pvenotify_needs_command" -s v -l verbose -d 'Print notes on standard error; twice (-vv) for debug detail such as timings and the files read. Never prints secrets'
complete -c pvenotify -n "__fish_pvenotify_needs_command" -s q -l quiet -d 'Print only errors and failed deliveries on standard error'
complete -c pvenotify -n "__fish_pvenotify_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pvenotify -n "__fish_pvenotify_needs_command" -s V -l version -d 'Print version'
complete -c pvenotify -n "__fish_pvenotify_needs_command" -f -a "send" -d 'Route an event through the matchers and deliver it to the selected targets'
complete -c pvenotify -n "__fish_pvenotify_needs_command" -f -a "test-target" -d 'Send a test notification to one target, bypassing the matchers'
complete -c pvenotify -n "__fish_pvenotify_needs_command" -f -a "validate" -d 'Check every configuration file and print every problem as FILE:LINE: message'
complete -c pvenotify -n "__fish_pvenotify_needs_command" -f -a "list" -d 'Show the configured targets and matchers (never their secrets)'
complete -c pvenotify -n "__fish_pvenotify_needs_command" -f -a "forward-mail" -d 'Forward a mail from standard input as a system-mail notification'
complete -c pvenotify -n "__fish_pvenotify_needs_command" -f -a "run" -d 'Run a command and notify when it fails'
complete -c pvenotify -n "__fish_pvenotify_needs_command" -f -a "recipe" -d 'Print a ready-to-paste webhook target for a chat or push service'
complete -c pvenotify -n "__fish_pvenotify_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -l title -d 'Title of the event: the mail subject, the Gotify title. Control characters become spaces; it must not be empty' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -l body -d 'Body of the event; without --body or --body-file it is read from standard input unless that is a terminal' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -l body-file -d 'Read the body from FILE ("-" for standard input); at most 4 MiB of UTF-8' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -l template -d 'Render title and bodies from the notification template NAME (such as vzdump), as Proxmox VE does, instead of --title and --body' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -l data -d 'The template\'s data: a JSON object in FILE ("-" for standard input), at most 4 MiB. Default: no data besides hostname, fqdn and cluster-name' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -l severity -d 'Severity of the event: info, notice, warning, error or unknown (any letter case)' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -l field -d 'A metadata field such as type=vzdump, for match-field rules and templates; repeatable, each KEY once. hostname=NAME replaces the default hostname field' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -l timestamp -d 'Time of the event, which decides the match-calendar windows: seconds since the epoch or an RFC 3339 date-time such as 2024-06-03T10:00:00Z. Default: now' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -l dedup-key -d 'Suppress repeats: per target, an event with this key and the same severity as the last one delivered is not delivered again until the cooldown has passed; another severity is delivered at once. At most 256 bytes, no control characters' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -l cooldown -d 'How long repeats of a --dedup-key stay quiet, such as 90s, 30m, 6h, 1d or 1h 30m; 0 suppresses nothing. Default: 1h' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -l state-dir -d 'Directory of the local state (dedup records in dedup/)' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -l config-dir -d 'Directory holding notifications.cfg, priv/notifications.cfg, user.cfg and datacenter.cfg' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -l output-format -d 'Format of standard output; errors and warnings stay text on standard error' -r -f -a "text\t'Human-readable text'
json\t'One compact JSON document'
json-pretty\t'One JSON document indented by two spaces'"
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -l hostname -d 'Host name for the default hostname field and for Message-IDs: letters, digits, `-` and `_` in dot-separated labels. Default: the kernel\'s node name (its first label for the field)' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -l sendmail -d 'The sendmail program that sendmail targets run (an absolute path)' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -l template-dir -d 'Vendor base of the notification templates (its default/ folder holds NAME-subject.txt.hbs, NAME-body.txt.hbs and NAME-body.html.hbs); files in CONFIG_DIR/notification-templates/default/ override them' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -l preview -d 'Print the rendered subject, text and HTML of the template and deliver nothing'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -l no-hostname -d 'Do not add the default hostname field'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -l dry-run -d 'Route only: print the names of the targets a real send would notify, one per line, and deliver nothing'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -l explain -d 'Route only: print for every matcher which rule matched and why (implies --dry-run)'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -s v -l verbose -d 'Print notes on standard error; twice (-vv) for debug detail such as timings and the files read. Never prints secrets'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -s q -l quiet -d 'Print only errors and failed deliveries on standard error'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand send" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand test-target" -l config-dir -d 'Directory holding notifications.cfg, priv/notifications.cfg, user.cfg and datacenter.cfg' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand test-target" -l output-format -d 'Format of standard output; errors and warnings stay text on standard error' -r -f -a "text\t'Human-readable text'
json\t'One compact JSON document'
json-pretty\t'One JSON document indented by two spaces'"
complete -c pvenotify -n "__fish_pvenotify_using_subcommand test-target" -l hostname -d 'Host name for the default hostname field and for Message-IDs: letters, digits, `-` and `_` in dot-separated labels. Default: the kernel\'s node name (its first label for the field)' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand test-target" -l sendmail -d 'The sendmail program that sendmail targets run (an absolute path)' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand test-target" -l template-dir -d 'Vendor base of the notification templates (its default/ folder holds NAME-subject.txt.hbs, NAME-body.txt.hbs and NAME-body.html.hbs); files in CONFIG_DIR/notification-templates/default/ override them' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand test-target" -s v -l verbose -d 'Print notes on standard error; twice (-vv) for debug detail such as timings and the files read. Never prints secrets'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand test-target" -s q -l quiet -d 'Print only errors and failed deliveries on standard error'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand test-target" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand validate" -l config-dir -d 'Directory holding notifications.cfg, priv/notifications.cfg, user.cfg and datacenter.cfg' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand validate" -l output-format -d 'Format of standard output; errors and warnings stay text on standard error' -r -f -a "text\t'Human-readable text'
json\t'One compact JSON document'
json-pretty\t'One JSON document indented by two spaces'"
complete -c pvenotify -n "__fish_pvenotify_using_subcommand validate" -l hostname -d 'Host name for the default hostname field and for Message-IDs: letters, digits, `-` and `_` in dot-separated labels. Default: the kernel\'s node name (its first label for the field)' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand validate" -l sendmail -d 'The sendmail program that sendmail targets run (an absolute path)' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand validate" -l template-dir -d 'Vendor base of the notification templates (its default/ folder holds NAME-subject.txt.hbs, NAME-body.txt.hbs and NAME-body.html.hbs); files in CONFIG_DIR/notification-templates/default/ override them' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand validate" -l strict -d 'Count warnings as errors'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand validate" -s v -l verbose -d 'Print notes on standard error; twice (-vv) for debug detail such as timings and the files read. Never prints secrets'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand validate" -s q -l quiet -d 'Print only errors and failed deliveries on standard error'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand list" -l config-dir -d 'Directory holding notifications.cfg, priv/notifications.cfg, user.cfg and datacenter.cfg' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand list" -l output-format -d 'Format of standard output; errors and warnings stay text on standard error' -r -f -a "text\t'Human-readable text'
json\t'One compact JSON document'
json-pretty\t'One JSON document indented by two spaces'"
complete -c pvenotify -n "__fish_pvenotify_using_subcommand list" -l hostname -d 'Host name for the default hostname field and for Message-IDs: letters, digits, `-` and `_` in dot-separated labels. Default: the kernel\'s node name (its first label for the field)' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand list" -l sendmail -d 'The sendmail program that sendmail targets run (an absolute path)' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand list" -l template-dir -d 'Vendor base of the notification templates (its default/ folder holds NAME-subject.txt.hbs, NAME-body.txt.hbs and NAME-body.html.hbs); files in CONFIG_DIR/notification-templates/default/ override them' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand list" -s v -l verbose -d 'Print notes on standard error; twice (-vv) for debug detail such as timings and the files read. Never prints secrets'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand list" -s q -l quiet -d 'Print only errors and failed deliveries on standard error'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand forward-mail" -l state-dir -d 'Directory for the per-message retry state, so that a retry only re-delivers to the targets that failed' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand forward-mail" -l config-dir -d 'Directory holding notifications.cfg, priv/notifications.cfg, user.cfg and datacenter.cfg' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand forward-mail" -l output-format -d 'Format of standard output; errors and warnings stay text on standard error' -r -f -a "text\t'Human-readable text'
json\t'One compact JSON document'
json-pretty\t'One JSON document indented by two spaces'"
complete -c pvenotify -n "__fish_pvenotify_using_subcommand forward-mail" -l hostname -d 'Host name for the default hostname field and for Message-IDs: letters, digits, `-` and `_` in dot-separated labels. Default: the kernel\'s node name (its first label for the field)' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand forward-mail" -l sendmail -d 'The sendmail program that sendmail targets run (an absolute path)' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand forward-mail" -l template-dir -d 'Vendor base of the notification templates (its default/ folder holds NAME-subject.txt.hbs, NAME-body.txt.hbs and NAME-body.html.hbs); files in CONFIG_DIR/notification-templates/default/ override them' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand forward-mail" -l no-state -d 'Keep no retry state (for testing); ignored with elevated privileges'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand forward-mail" -s v -l verbose -d 'Print notes on standard error; twice (-vv) for debug detail such as timings and the files read. Never prints secrets'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand forward-mail" -s q -l quiet -d 'Print only errors and failed deliveries on standard error'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand forward-mail" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand run" -l timeout -d 'Stop the command after SPAN (such as 30m): SIGTERM, and SIGKILL 10 s later' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand run" -l title -d 'Title of the notification instead of "\'COMMAND\' failed on HOST (…)"' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand run" -l severity -d 'Severity of a failure\'s notification (success with --always is info)' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand run" -l field -d 'A metadata field such as type=backup; repeatable. Replaces a default field of the same name (type=command, command=NAME, hostname)' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand run" -l dedup-key -d 'Suppress repeats: per target, an event with this key and the same severity as the last one delivered is not delivered again until the cooldown has passed; another severity is delivered at once. At most 256 bytes, no control characters' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand run" -l cooldown -d 'How long repeats of a --dedup-key stay quiet, such as 90s, 30m, 6h, 1d or 1h 30m; 0 suppresses nothing. Default: 1h' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand run" -l state-dir -d 'Directory of the local state (dedup records in dedup/)' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand run" -l config-dir -d 'Directory holding notifications.cfg, priv/notifications.cfg, user.cfg and datacenter.cfg' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand run" -l output-format -d 'Format of standard output; errors and warnings stay text on standard error' -r -f -a "text\t'Human-readable text'
json\t'One compact JSON document'
json-pretty\t'One JSON document indented by two spaces'"
complete -c pvenotify -n "__fish_pvenotify_using_subcommand run" -l hostname -d 'Host name for the default hostname field and for Message-IDs: letters, digits, `-` and `_` in dot-separated labels. Default: the kernel\'s node name (its first label for the field)' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand run" -l sendmail -d 'The sendmail program that sendmail targets run (an absolute path)' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand run" -l template-dir -d 'Vendor base of the notification templates (its default/ folder holds NAME-subject.txt.hbs, NAME-body.txt.hbs and NAME-body.html.hbs); files in CONFIG_DIR/notification-templates/default/ override them' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand run" -l always -d 'Notify when the command succeeds too (severity info)'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand run" -l dry-run -d 'Run the command, then print the targets a failure would notify instead of notifying'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand run" -l explain -d 'Run the command, then print the routing explanation instead of notifying'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand run" -s v -l verbose -d 'Print notes on standard error; twice (-vv) for debug detail such as timings and the files read. Never prints secrets'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand run" -s q -l quiet -d 'Print only errors and failed deliveries on standard error'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand recipe" -l name -d 'Name of the target (the section name); the service\'s name when omitted' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand recipe" -l config-dir -d 'Directory holding notifications.cfg, priv/notifications.cfg, user.cfg and datacenter.cfg' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand recipe" -l output-format -d 'Format of standard output; errors and warnings stay text on standard error' -r -f -a "text\t'Human-readable text'
json\t'One compact JSON document'
json-pretty\t'One JSON document indented by two spaces'"
complete -c pvenotify -n "__fish_pvenotify_using_subcommand recipe" -l hostname -d 'Host name for the default hostname field and for Message-IDs: letters, digits, `-` and `_` in dot-separated labels. Default: the kernel\'s node name (its first label for the field)' -r
complete -c pvenotify -n "__fish_pvenotify_using_subcommand recipe" -l sendmail -d 'The sendmail program that sendmail targets run (an absolute path)' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand recipe" -l template-dir -d 'Vendor base of the notification templates (its default/ folder holds NAME-subject.txt.hbs, NAME-body.txt.hbs and NAME-body.html.hbs); files in CONFIG_DIR/notification-templates/default/ override them' -r -F
complete -c pvenotify -n "__fish_pvenotify_using_subcommand recipe" -l list -d 'List the services with their size limits instead'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand recipe" -l public -d 'Print only the section for notifications.cfg, for appending to the file'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand recipe" -l private -d 'Print only the section for priv/notifications.cfg, for appending to the file'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand recipe" -s v -l verbose -d 'Print notes on standard error; twice (-vv) for debug detail such as timings and the files read. Never prints secrets'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand recipe" -s q -l quiet -d 'Print only errors and failed deliveries on standard error'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand recipe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand help; and not __fish_seen_subcommand_from send test-target validate list forward-mail run recipe help" -f -a "send" -d 'Route an event through the matchers and deliver it to the selected targets'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand help; and not __fish_seen_subcommand_from send test-target validate list forward-mail run recipe help" -f -a "test-target" -d 'Send a test notification to one target, bypassing the matchers'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand help; and not __fish_seen_subcommand_from send test-target validate list forward-mail run recipe help" -f -a "validate" -d 'Check every configuration file and print every problem as FILE:LINE: message'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand help; and not __fish_seen_subcommand_from send test-target validate list forward-mail run recipe help" -f -a "list" -d 'Show the configured targets and matchers (never their secrets)'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand help; and not __fish_seen_subcommand_from send test-target validate list forward-mail run recipe help" -f -a "forward-mail" -d 'Forward a mail from standard input as a system-mail notification'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand help; and not __fish_seen_subcommand_from send test-target validate list forward-mail run recipe help" -f -a "run" -d 'Run a command and notify when it fails'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand help; and not __fish_seen_subcommand_from send test-target validate list forward-mail run recipe help" -f -a "recipe" -d 'Print a ready-to-paste webhook target for a chat or push service'
complete -c pvenotify -n "__fish_pvenotify_using_subcommand help; and not __fish_seen_subcommand_from send test-target validate list forward-mail run recipe help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
