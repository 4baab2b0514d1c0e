// The debrief's Print button (scripts are files: the pages allow no inline script).
'use strict';
document.getElementById('print').addEventListener('click', () => window.print());
