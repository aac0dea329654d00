/** Every `captioner` subcommand, in the order `captioner --help` lists them. */
import { batchCommand } from './batch';
import { datasetCommand } from './dataset';
import { doctorCommand } from './doctor';
import { captionCommand } from './caption';
import { evalCommand } from './eval';
import { exportCommand } from './export';
import { modelsCommand } from './models';
import { scoreCommand } from './score';
import { runsCommand } from './runs';
import { serveCommand } from './serve';
import { synthCommand } from './synth';
import { trainCommand } from './train';
import { studyCommand, tuneCommand } from './tune';
import type { Command } from './types';

export const commands: Command[] = [serveCommand, doctorCommand, scoreCommand, runsCommand, trainCommand, tuneCommand, studyCommand, evalCommand, exportCommand, captionCommand, batchCommand, modelsCommand, datasetCommand, synthCommand];
