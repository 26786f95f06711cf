import type { CAC, Command } from 'cac';
import { actionsOf, withActions } from '../command-line.js';
import { UsageError } from '../errors.js';
import { print } from '../output.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

/** What completion knows of one command: its names, its first-argument actions, its flags. */
interface CommandWords {
  names: string[];
  actions: readonly string[];
  flags: string[];
}

/** `-p, --provider <id>` → `-p`, `--provider`. */
const flagsOf = (command: Command): string[] => [...command.options.flatMap((option) => option.rawName.match(/--?[A-Za-z][\w-]*/g) ?? []), '--help'];

function commandWords(cli: CAC): CommandWords[] {
  return cli.commands.filter((command) => command.name !== '').map((command) => ({ names: [command.name, ...command.aliasNames], actions: actionsOf(command), flags: flagsOf(command) }));
}

/** Completes the command, then its actions (as the first argument) and flags. zsh runs it through bashcompinit. */
function bashScript(commands: CommandWords[]): string {
  const cases = commands.map(({ names, actions, flags }) => `    ${names.join('|')}) actions='${actions.join(' ')}'; flags='${flags.join(' ')}' ;;`);
  return `# codepiper completion for bash: eval "$(codepiper completion bash)"
_codepiper() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" actions='' flags=''
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W '${commands.flatMap((c) => c.names).join(' ')} --help --version' -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [ "$COMP_CWORD" -eq 2 ] && [ -n "$actions" ]; then
    COMPREPLY=($(compgen -W "$actions" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _codepiper codepiper`;
}

function zshScript(commands: CommandWords[]): string {
  return `# codepiper completion for zsh: eval "$(codepiper completion zsh)"
(( $+functions[compdef] )) || { autoload -U +X compinit && compinit }
autoload -U +X bashcompinit && bashcompinit
${bashScript(commands).split('\n').slice(1).join('\n')}`;
}

function fishScript(commands: CommandWords[]): string {
  const quote = (text: string): string => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  const lines = ['# codepiper completion for fish: codepiper completion fish | source', 'complete -c codepiper -f'];
  for (const { names, actions, flags } of commands) {
    lines.push(`complete -c codepiper -n __fish_use_subcommand -a ${quote(names.join(' '))}`);
    const within = `-n ${quote(`__fish_seen_subcommand_from ${names.join(' ')}`)}`;
    if (actions.length > 0) lines.push(`complete -c codepiper ${within} -a ${quote(actions.join(' '))}`);
    for (const flag of flags) lines.push(`complete -c codepiper ${within} ${flag.startsWith('--') ? `-l ${flag.slice(2)}` : `-s ${flag.slice(1)}`}`);
  }
  return lines.join('\n');
}

const SCRIPTS: Record<Shell, (commands: CommandWords[]) => string> = { bash: bashScript, zsh: zshScript, fish: fishScript };

/** Registered last: it completes every command registered before it. */
export function registerCompletionCommand(cli: CAC): void {
  withActions(cli.command('completion <shell>', 'Print shell completion for bash, zsh or fish'), SHELLS)
    .example('  $ eval "$(codepiper completion bash)"     # in ~/.bashrc')
    .example('  $ eval "$(codepiper completion zsh)"      # in ~/.zshrc')
    .example('  $ codepiper completion fish > ~/.config/fish/completions/codepiper.fish')
    .action((shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`no completion for "${shell}"; choose ${SHELLS.join(', ')}`);
      print(SCRIPTS[shell as Shell](commandWords(cli)));
    });
}
