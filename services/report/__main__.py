from services.report.serve import main

if __name__ == "__main__":
    main()
