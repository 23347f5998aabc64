from rebuildx.cli import main

main()
