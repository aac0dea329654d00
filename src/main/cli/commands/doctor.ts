/** `captioner doctor`: what the workbench runs on, and how to make it faster. */
import type { SystemInfo } from '../../../shared/types';
import { commonOptions, parse } from '../args';
import { printJson, withWorkbench } from '../context';
import type { Command } from './types';

const usage = `Usage: captioner doctor [--json] [--data-dir DIR]

Prints the tfjs backend in use and why, TensorFlow and CUDA libraries found,
CPU, memory, GPU and library versions. --json prints system.info as JSON.`;

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Show the backend, hardware and library versions',
  usage,
  async run(argv) {
    const { values } = parse(argv, commonOptions, usage);
    const info = await withWorkbench({ dataDir: values['data-dir'], store: values.store, quiet: values.json }, (cli) =>
      cli.call('system.info', {}),
    );
    if (values.json) printJson(info);
    else process.stdout.write(formatDoctor(info));
  },
};

export function formatDoctor(info: SystemInfo): string {
  const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  const backend = info.backend;
  const lines = [
    `Captioning Workbench ${info.appVersion} on ${info.platform}/${info.arch}`,
    '',
    `Backend        ${backend.name} (${backend.device})${backend.isFastest ? '' : '  ← not the fastest possible'}`,
    `Why            ${backend.reason}`,
    `TensorFlow     ${backend.tensorflowVersion ?? 'not loaded'}`,
    `Library        ${backend.libraryPath ?? '—'}`,
    `CUDA libraries ${backend.cudaLibraries.length ? backend.cudaLibraries.join(', ') : 'none found'}`,
  ];
  if (backend.enableCommand) lines.push(`Faster backend ${backend.enableCommand}`);
  lines.push(
    '',
    `CPU            ${info.cpu.model} (${info.cpu.cores} cores)`,
    `Memory         ${gib(info.memory.totalBytes)} total, ${gib(info.memory.freeBytes)} free`,
    `GPU            ${info.gpu ? `${info.gpu.name}${info.gpu.memoryBytes ? ` (${gib(info.gpu.memoryBytes)})` : ''}` : 'none detected'}`,
    `Engine         ${info.engine.state}, pid ${info.engine.pid ?? '—'}, ${info.engine.restarts} restarts`,
    `Data directory ${info.dataDir}`,
    '',
    'Libraries',
    ...Object.entries(info.versions).map(([name, version]) => `  ${name.padEnd(28)} ${version}`),
    '',
  );
  return lines.join('\n');
}
