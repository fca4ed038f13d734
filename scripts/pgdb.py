"""Create or drop a PostgreSQL database (used by scripts/test.sh and bench/).

usage: pgdb.py create|drop ADMIN_URL NAME   (exit status 1 when the server is unreachable)
"""

from __future__ import annotations

import sys

import psycopg
from psycopg import sql


def main(action: str, admin_url: str, name: str) -> int:
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
            if action == "create":
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            elif action == "drop":
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            else:
                print(f"unknown action {action}", file=sys.stderr)
                return 2
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL unavailable: {exc}".strip(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
