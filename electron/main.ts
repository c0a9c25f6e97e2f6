import { startCairnApp } from './cairn-app.js';

startCairnApp();
