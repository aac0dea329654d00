#!/usr/bin/env python3
"""Regenerates test/fixtures/metric-goldens.json: BLEU-1..4, ROUGE-L and
CIDEr-D computed by the coco-caption reference implementation (pycocoevalcap)
on pre-tokenized captions, which the TypeScript metrics must reproduce to 1e-6.

    python3 -m venv /tmp/cocoenv && /tmp/cocoenv/bin/pip install pycocoevalcap
    /tmp/cocoenv/bin/python scripts/make-metric-goldens.py

Only the Bleu, Rouge and Cider scorers are called (no Java: the PTB tokenizer,
METEOR and SPICE are not used). The cases are deterministic for the seed.
"""
import json
import os
import random
from importlib.metadata import version

from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.rouge.rouge import Rouge

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'metric-goldens.json')

REALISTIC = [
    ('391895', 'a man riding a bike down a dirt road', [
        'a man with a red helmet on a small moped on a dirt road',
        'man riding a motor bike on a dirt road on the countryside',
        'a man riding on the back of a motorcycle',
        'a dirt path with a young person on a motor bike rests to the foreground of a verdant area with a bridge and a background of cloud wreathed mountains',
        'a man in a red shirt and a red hat is on a motorcycle on a hill side',
    ]),
    ('522418', 'a woman cutting a cake with a knife', [
        'a woman wearing a net on her head cutting a cake',
        'a woman cutting a large white sheet cake',
        'a woman wearing a hair net cutting a large sheet cake',
        'there is a woman that is cutting a white cake',
        'a woman marking a cake with the back of a chefs knife',
    ]),
    ('184613', 'a group of cows standing in a field', [
        'a child holding a flowered umbrella and petting a yak',
        'a young man holding an umbrella next to a herd of cattle',
        'a young boy barefoot holding an umbrella touching the horn of a cow',
        'a young boy with an umbrella who is touching the horn of a cow',
        'a boy holding an umbrella while standing next to livestock',
    ]),
    ('318219', 'a person sitting at a desk with a computer', [
        'a young boy standing in front of a computer keyboard',
        'a little boy wearing headphones and looking at a computer monitor',
        'he is listening intently to the computer at school',
        'a young boy stares up at the computer monitor',
        'a young kid with head phones on using a computer',
    ]),
    ('554625', 'a boy wearing headphones using a computer', [
        'a boy wearing headphones using one computer in a long row of computers',
        'a little boy with earphones on listening to something',
        'a group of people sitting at desk using computers',
        'children sitting at computer stations on a long table',
        'a small child wearing headphones plays on the computer',
    ]),
    ('397133', 'a kitchen with a stove and a sink', [
        'a man is in a kitchen making pizzas',
        'man in apron standing on front of oven with pans and bakeware',
        'a baker is working in the kitchen rolling dough',
        'a person standing by a stove in a kitchen',
        'a table with pies being made and a person standing near a wall with pots and pans hanging on the wall',
    ]),
]

SHAPES = [
    ('0', 'a small red circle left of a blue square', [
        'a small red circle left of a blue square',
        'a red circle to the left of a big blue square',
        'two shapes on a gray background',
        'a blue square right of a small red circle',
        'a small red circle and a large blue square',
    ]),
    ('1', 'a green star', [
        'a large green star',
        'one green star on a white background',
        'a big green star',
        'a single green star',
        'a green star in the middle',
    ]),
    ('2', 'three shapes on a gray background', [
        'a yellow triangle above a red cross and a blue circle',
        'three shapes on a textured background',
        'a red cross below a yellow triangle',
        'a blue circle a red cross and a yellow triangle',
        'three shapes: a triangle a cross and a circle',
    ]),
]

VOCAB = 'a an the red blue green small large circle square star cross triangle of on left right above below and two three shapes dog man'.split()


def random_corpus(rng, images, refs_range, length_range, vocab, empty_rate=0.0):
    def sentence():
        if rng.random() < empty_rate:
            return ''
        return ' '.join(rng.choice(vocab) for _ in range(rng.randint(*length_range)))
    return [(f'img{i}', sentence(), [sentence() for _ in range(rng.randint(*refs_range))]) for i in range(images)]


def score(items):
    gts = {image_id: list(refs) for image_id, _, refs in items}
    res = {image_id: [candidate] for image_id, candidate, _ in items}
    bleu, bleu_per_image = Bleu(4).compute_score(gts, res, verbose=0)
    rouge, rouge_per_image = Rouge().compute_score(gts, res)
    cider, cider_per_image = Cider().compute_score(gts, res)
    return {
        'corpus': {'bleu': [float(v) for v in bleu], 'rougeL': float(rouge), 'ciderD': float(cider)},
        'perImage': {
            # bleu_per_image is [order][image]; stored as [image][order] like the TypeScript result
            'bleu': [[float(bleu_per_image[k][i]) for k in range(4)] for i in range(len(items))],
            'rougeL': [float(v) for v in rouge_per_image],
            'ciderD': [float(v) for v in cider_per_image],
        },
    }


def main():
    rng = random.Random(20240607)
    cases = [
        ('realistic COCO captions', REALISTIC),
        ('Shapes captions', SHAPES),
        ('single image (CIDEr-D is 0: every idf is 0)', [REALISTIC[0]]),
        ('perfect match', [(i, refs[0], refs) for i, _, refs in REALISTIC[:3]]),
        ('empty candidate', [('e', '', ['a red circle', 'a blue square'])] + SHAPES[:2]),
        ('candidate shorter than every reference (brevity penalty)', [
            ('s1', 'a circle', ['a red circle on the left', 'a small red circle']),
            ('s2', 'blue', ['a blue square', 'one blue square']),
        ]),
        ('closest reference length tie goes to the shorter', [
            ('t1', 'a red circle left', ['a red circle', 'a red circle left of it']),
            ('t2', 'a b c d e', ['a b c', 'a b c d e f g']),
            ('t3', 'x y', ['y x z w']),
        ]),
        ('repeated words are clipped', [
            ('r1', 'the the the the the the the', ['the cat is on the mat', 'there is a cat on the mat']),
            ('r2', 'red red red circle', ['a red circle', 'red circle red square']),
        ]),
        ('double spaces and odd whitespace', [
            ('w1', 'a  red circle', ['a red circle', 'a  red\tcircle ']),
            ('w2', 'a\u00a0blue square', ['a blue\u00a0square', 'a\x1cblue square']),
            ('w3', ' a green star', ['a green star', 'green star ']),
        ]),
        ('non-ASCII words', [
            ('u1', 'un chat noir sur le canapé', ['un chat noir sur un canapé', 'le chat dort sur le canapé']),
            ('u2', '一只 猫 在 沙发 上', ['一只 黑 猫 在 沙发 上', '猫 在 睡觉']),
            ('u3', 'ein hund läuft', ['ein hund läuft über die straße', 'ein brauner hund']),
        ]),
        ('one reference per image', random_corpus(rng, 12, (1, 1), (1, 9), VOCAB)),
        ('random small vocabulary', random_corpus(rng, 40, (3, 5), (1, 12), VOCAB[:10])),
        ('random with empty captions', random_corpus(rng, 30, (1, 5), (1, 8), VOCAB, empty_rate=0.1)),
        ('random larger corpus', random_corpus(rng, 150, (5, 5), (4, 14), VOCAB)),
    ]
    fixture = {
        'generator': 'scripts/make-metric-goldens.py',
        'reference': f"pycocoevalcap {version('pycocoevalcap')} (Bleu(4) option 'closest', Rouge beta 1.2, Cider n=4 sigma 6)",
        'cases': [],
    }
    for name, items in cases:
        fixture['cases'].append({
            'name': name,
            'items': [{'imageId': i, 'candidate': c, 'references': list(r)} for i, c, r in items],
            'expected': score(items),
        })
    with open(OUT, 'w', encoding='utf-8') as handle:
        json.dump(fixture, handle, ensure_ascii=False, separators=(',', ':'))
        handle.write('\n')
    print(f'wrote {len(cases)} cases to {os.path.relpath(OUT)}')


if __name__ == '__main__':
    main()
