/** What the consensus decoding choices do, where a form offers them. */
export const MIRROR_CONSENSUS_HINT =
  'Also caption each image mirrored left to right, and keep the caption that both views find likeliest (left and right swapped for the mirror). For models trained with the horizontal flip; about two and a half times the decoding time.';

export const CONVERSE_CONSENSUS_HINT =
  'Also read each caption that is one relation between two things told from the other thing ("a cross below a box" for "a box above a cross"), and keep the caption likeliest both ways; with mirror consensus, on both views.';

export const RELATION_SEARCH_HINT =
  'Also weigh each caption that is one relation between two things with every other relation phrase ("above", "to the left of", …), each ranked at the length of the caption it came from, so the second object has its say in the relation; best with the consensus boxes.';
