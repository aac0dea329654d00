/**
 * Include and exclude globs for batch captioning, matched against an image's
 * path relative to the chosen folder with `/` separators: `*` and `?` stay
 * inside one folder name, `**` crosses folders (`**\/` also matches no
 * folder at all), `[abc]` and `{jpg,png}` as in a shell. Matching ignores
 * case, as users type globs for file names whose case they do not control.
 */

/** Turns one glob into a regular expression over a whole relative path. */
export function globToRegExp(glob: string): RegExp {
  if (glob.trim() === '') throw new Error('A glob may not be empty.');
  let source = '';
  let index = 0;
  let braceDepth = 0;
  while (index < glob.length) {
    const char = glob[index]!;
    if (char === '*') {
      if (glob[index + 1] === '*') {
        const atSegmentStart = index === 0 || glob[index - 1] === '/';
        const slashAfter = glob[index + 2] === '/';
        if (atSegmentStart && slashAfter) {
          source += '(?:.*/)?';
          index += 3;
        } else {
          source += '.*';
          index += 2;
        }
      } else {
        source += '[^/]*';
        index += 1;
      }
      continue;
    }
    if (char === '?') source += '[^/]';
    else if (char === '[') {
      const close = glob.indexOf(']', index + 2);
      if (close === -1) throw new Error(`Glob "${glob}": "[" at position ${index + 1} has no closing "]".`);
      let body = glob.slice(index + 1, close).replace(/\\/g, '\\\\');
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      source += `[${body}]`;
      index = close + 1;
      continue;
    } else if (char === '{') {
      braceDepth += 1;
      source += '(?:';
    } else if (char === '}' && braceDepth > 0) {
      braceDepth -= 1;
      source += ')';
    } else if (char === ',' && braceDepth > 0) source += '|';
    else if (char === '\\' && index + 1 < glob.length) {
      source += escapeChar(glob[index + 1]!);
      index += 2;
      continue;
    } else source += escapeChar(char);
    index += 1;
  }
  if (braceDepth > 0) throw new Error(`Glob "${glob}": "{" has no closing "}".`);
  return new RegExp(`^${source}$`, 'i');
}

function escapeChar(char: string): string {
  return /[.+^$()|[\]{}\\/]/.test(char) ? `\\${char}` : char;
}

export interface PathFilter {
  /** Whether a relative path (with `/`) is selected by the include and exclude globs. */
  (relativePath: string): boolean;
}

/**
 * Selected: matches at least one include glob (any path when there are none)
 * and no exclude glob. A glob without `/` matches the file name in any
 * folder, as `*.png` should in a recursive listing.
 */
export function pathFilter(include: readonly string[], exclude: readonly string[]): PathFilter {
  const compile = (globs: readonly string[]) =>
    globs.map((glob) => {
      const regex = globToRegExp(glob);
      return glob.includes('/') ? (path: string) => regex.test(path) : (path: string) => regex.test(path.slice(path.lastIndexOf('/') + 1));
    });
  const includes = compile(include);
  const excludes = compile(exclude);
  return (path) => (includes.length === 0 || includes.some((test) => test(path))) && !excludes.some((test) => test(path));
}
