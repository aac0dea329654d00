/** Every `captioner` subcommand, in the order `captioner --help` lists them. */
import { doctorCommand } from './doctor';
import { scoreCommand } from './score';
import { runsCommand } from './runs';
import { serveCommand } from './serve';
import { trainCommand } from './train';
import type { Command } from './types';

export const commands: Command[] = [serveCommand, doctorCommand, scoreCommand, runsCommand, trainCommand];
