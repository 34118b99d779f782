"""The "Data access" walkthrough, run against the fake EarthScope; saves the plot.

``python docs/data_walkthrough.py OUT.png``; the docs build runs it (docs/hooks/data_plot.py)
and docs/data.md includes this file, so the page shows the code that drew its figure.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt
import pyarrow.compute as pc

from earthscope_sdk_async import EarthScopeClient, MemoryTokenStore
from earthscope_sdk_async.testing import FakeEarthScope


def walkthrough(out: str) -> None:  # noqa: D103 - shown in the docs as is
    # A fake EarthScope on 127.0.0.1; with a real account: `with EarthScopeClient() as client:`
    with FakeEarthScope() as fake, EarthScopeClient(
        fake.settings(), store=MemoryTokenStore(fake.issue_tokens())
    ) as client:
        # 1. Discover: which stations does the network have?
        stations = client.discover.list_station_datasources(network_name="NOTA")
        print(len(stations), "stations:", [s.names["IGS"] for s in stations[:3]], "...")

        # 2. Plan a query: nothing is sent yet.
        plan = client.data.gnss_observations(
            start_datetime=datetime(2025, 3, 1),  # naive datetimes are UTC
            end_datetime=datetime(2025, 3, 2),
            station_name=["P041", "P042"],
            sample_interval=timedelta(seconds=15),
            system="G",
            field=["snr"],
        )

        # 3. Fetch: one pyarrow.Table, rows ordered by time, station, system, satellite.
        observations = plan.fetch()
        print(observations.num_rows, "rows;", len(plan), "requests;", observations.schema.names)

        # 4. Real-time positions of one station over six hours.
        positions = client.data.gnss_instantaneous_positions(
            start_datetime=datetime(2025, 3, 1),
            end_datetime=datetime(2025, 3, 1, 6),
            station_name="P041",
        ).fetch()

    # 5. Plot: positions (east, north, up) and the SNR of one satellite.
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=False)
    times = positions["timestamp"].to_numpy()
    for column in ("east", "north", "up"):
        top.plot(times, positions[column].to_numpy() * 1000, label=column, linewidth=0.8)
    top.set_ylabel("mm")
    top.set_title("P041 instantaneous positions")
    top.legend(loc="upper right")
    one = observations.filter(
        pc.and_(pc.equal(observations["satellite"], 5), pc.equal(observations["obs_code"], "1C"))
    )
    for station in ("P04100USA", "P04200USA"):
        rows = one.filter(pc.equal(one["igs"], station))
        bottom.plot(rows["timestamp"].to_numpy(), rows["snr"].to_numpy(), label=station)
    bottom.set_ylabel("SNR (dB-Hz)")
    bottom.set_title("G05 1C signal to noise")
    bottom.legend(loc="upper right")
    figure.tight_layout()
    figure.savefig(out, dpi=90)


if __name__ == "__main__":
    walkthrough(sys.argv[1] if len(sys.argv) > 1 else "data-walkthrough.png")
