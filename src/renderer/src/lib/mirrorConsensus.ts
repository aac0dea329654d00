/** What the "mirror consensus" decoding choice does, where a form offers it. */
export const MIRROR_CONSENSUS_HINT =
  'Also caption each image mirrored left to right, and keep the caption that both views find likeliest (left and right swapped for the mirror). For models trained with the horizontal flip; about two and a half times the decoding time.';
