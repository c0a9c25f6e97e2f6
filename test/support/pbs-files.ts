/**
 * Files as Proxmox Backup Server writes them into a datastore, for tests of what Cairn makes of them. PBS keeps
 * `.gc-status` as its GarbageCollectionStatus (pbs-api-types, serde kebab-case), pretty-printed.
 */
export const PBS_GC_STATUS = `${JSON.stringify(
  {
    upid: 'UPID:pbs:000A1B2C:0123ABCD:00000004:6650F1A0:garbage_collection:store1:root@pam:',
    'index-file-count': 12,
    'index-data-bytes': 53_687_091_200,
    'disk-bytes': 10_737_418_240,
    'disk-chunks': 2_560,
    'removed-bytes': 1_048_576,
    'removed-chunks': 1,
    'pending-bytes': 0,
    'pending-chunks': 0,
    'removed-bad': 0,
    'still-bad': 0,
  },
  null,
  2,
)}\n`;
