"""A separate process writing a stream of steps; prints each update id only after apply_step has returned."""

from __future__ import annotations

import argparse
import asyncio

from storage import Database
from tests.storage.builders import answer


async def main(url: str, first: int, count: int, users: int) -> None:
    """Answer a new question per step, cycling through `users` respondents above user id 900000."""
    db = await Database.open(url)
    try:
        for update_id in range(first, first + count):
            user_id = 900_000 + update_id % users
            await answer(db, user_id, f"q{update_id}", f"step {update_id}", update_id=update_id)
            print(update_id, flush=True)
    finally:
        await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--first", type=int, default=1)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.url, args.first, args.count, args.users))
