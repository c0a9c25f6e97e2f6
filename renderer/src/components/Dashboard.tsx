import { useAppShallow } from '../state/use-app.js';
import { DashboardCharts } from './DashboardCharts.js';
import { DashboardPlans } from './DashboardPlans.js';
import { DashboardSpace } from './DashboardSpace.js';
import { ErrorNote } from './ErrorNote.js';

/** The open store's first view: its plans, its size and free space, and charts of its growth. */
export function Dashboard({ store }: { store: string }) {
  const { dashboard, error, refresh } = useAppShallow((s) => ({
    dashboard: s.dashboard,
    error: s.dashboardError,
    refresh: s.refreshDashboard,
  }));
  return (
    <section className="dashboard" aria-labelledby="dashboard-title">
      <div className="pane-header">
        <h2 id="dashboard-title" className="grow">
          Overview
        </h2>
        <button type="button" onClick={() => void refresh()}>
          Refresh
        </button>
      </div>
      <ErrorNote error={error} />
      <div className="dash-grid">
        <DashboardPlans store={store} />
        <DashboardSpace dashboard={dashboard} />
        <DashboardCharts dashboard={dashboard} />
      </div>
    </section>
  );
}
