// Every test file: core's cell widths of non-ASCII text come from string-width, installed
// the way the program installs them (src/cell-widths.ts).
import { installCellWidths } from '../src/cell-widths.js';

installCellWidths();
