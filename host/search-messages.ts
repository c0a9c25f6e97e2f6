import type { AppErrorInfo } from '../contract/errors.js';
import type { SearchRequest } from '../contract/find.js';
import type { SearchNews } from './search.js';

/** What a search thread is given: the checked request and the raw bytes of the unlocked keys (in this process). */
export interface SearchWorkerData {
  req: SearchRequest;
  keys: Uint8Array[];
}

/** What it answers: whether it could start (how many snapshots), its news, or why it stopped. */
export type SearchReply =
  | { type: 'started'; snapshots: number }
  | { type: 'refused'; error: AppErrorInfo }
  | { type: 'news'; news: SearchNews }
  | { type: 'failed'; error: AppErrorInfo };
