/** Electron entry: kept thin on purpose; the app lives in ./electron/app. */
import './electron/app';
