/** How a decoding's consensus reads in a description: "", ", mirror consensus", ", mirror and converse consensus, relation search", … */
export function consensusLabel(decoding: { mirrorConsensus?: boolean | undefined; converseConsensus?: boolean | undefined; relationSearch?: boolean | undefined }): string {
  const kinds = [decoding.mirrorConsensus ? 'mirror' : null, decoding.converseConsensus ? 'converse' : null].filter((kind) => kind !== null);
  return `${kinds.length ? `, ${kinds.join(' and ')} consensus` : ''}${decoding.relationSearch ? ', relation search' : ''}`;
}

/** The same, on its own: "mirror and converse consensus, relation search" ("" for plain decoding). */
export function consensusNames(decoding: Parameters<typeof consensusLabel>[0]): string {
  return consensusLabel(decoding).replace(/^, /, '');
}
