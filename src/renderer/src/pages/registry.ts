/**
 * Every page of the workbench, in navigation order: its route id, its label
 * and how to load it. Adding a page is one entry here; the router and the
 * navigation read this list. Pages load on first visit (a chunk each), which
 * also keeps this module free of import cycles with the pages that use the
 * router.
 */
import type { Component } from 'svelte';

export interface PageEntry {
  readonly id: string;
  readonly label: string;
  readonly load: () => Promise<{ default: Component }>;
}

export const pages = [
  { id: 'datasets', label: 'Datasets', load: () => import('./DatasetsPage.svelte') },
  { id: 'runs', label: 'Runs', load: () => import('./RunsPage.svelte') },
  { id: 'compare', label: 'Compare', load: () => import('./ComparePage.svelte') },
  { id: 'batch', label: 'Batch', load: () => import('./BatchPage.svelte') },
  { id: 'gallery', label: 'Gallery', load: () => import('./GalleryPage.svelte') },
  { id: 'playground', label: 'Playground', load: () => import('./PlaygroundPage.svelte') },
  { id: 'tuning', label: 'Tuning', load: () => import('./TuningPage.svelte') },
  { id: 'system', label: 'System', load: () => import('./SystemPage.svelte') },
] as const satisfies readonly PageEntry[];

export type PageId = (typeof pages)[number]['id'];
